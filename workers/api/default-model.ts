/** What the page needs to know about the shipped default model (measured by its tests). */
export { ADJECTIVE_HEAD } from '../engine/default-model.ts';
