/** Numbers, sizes and times as the elements write them for people. */

/** 12,345: whole numbers with thousands separators. */
export const count = (value: number): string => value.toLocaleString('en-US');

/** "1 step", "1,200 steps". */
export const steps = (value: number): string => `${count(value)} ${value === 1 ? 'step' : 'steps'}`;

/** −0.25, 1.50: `digits` decimals and a real minus sign; a value that rounds to 0 has none. */
export function signed(value: number, digits: number): string {
  const text = Math.abs(value).toFixed(digits);
  return value < 0 && Number(text) !== 0 ? `−${text}` : text;
}

const UNITS = ['KB', 'MB', 'GB', 'TB'];

/** 1.2 MB, 2.0 GB: binary multiples, one decimal. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

const RELATIVE = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 30],
  ['month', 12],
  ['year', Infinity],
];

/** "just now", "5 minutes ago", "yesterday". */
export function relativeTime(time: number): string {
  let value = (time - Date.now()) / 1000;
  if (Math.abs(value) < 45) return 'just now';
  let index = 0;
  while (Math.abs(value) >= STEPS[index]![1]) value /= STEPS[index++]![1];
  // Whole units passed: 59.6 minutes is still "59 minutes ago".
  return RELATIVE.format(Math.trunc(value), STEPS[index]![0]);
}
