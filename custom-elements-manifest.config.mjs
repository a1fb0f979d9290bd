// custom-elements.json (`npm run manifest`): the public API of <llm-playground> and of the five concept labs that work
// alone in a page, read from their JSDoc. test/node/manifest.test.ts checks it against the README.
import { readFileSync } from 'node:fs';

/** The elements a page may use; every other element is the playground's inside, not API. */
const PUBLIC_ELEMENTS = [
  'src/llm-playground.ts',
  ...['softmax', 'parameter', 'superposition', 'fact-mlp', 'training-step'].map((lab) => `src/elements/${lab}-lab.ts`),
];

/**
 * The --llm-playground-* custom properties, from the @cssprop tags heading theme.ts: every public element draws with
 * that theme, so each gets the whole list from there rather than six copies of it.
 */
const themeProperties = () =>
  [...readFileSync(new URL('src/theme.ts', import.meta.url), 'utf8').matchAll(/@cssprop\s+(--[\w-]+)\s+-\s+(.+)/g)].map(
    ([, name, description]) => ({ name, description }),
  );

/**
 * The events <llm-playground> sends, every one of src/events.ts (its panels' bubble out of it): each entry's name,
 * detail type and doc comment there, so they are written once.
 */
const playgroundEvents = () => {
  const source = readFileSync(new URL('src/events.ts', import.meta.url), 'utf8');
  const body = source.slice(source.indexOf('export interface LlmEvents {'));
  return [...body.slice(0, body.indexOf('\n}\n')).matchAll(/\/\*\*\s*(.*?)\s*\*\/\s*\n\s*'(llm-[\w-]+)': (.+);/g)].map(
    ([, description, name, type]) => ({ name, type: { text: type }, description }),
  );
};

/** Whose parts <llm-playground> forwards under each prefix. */
const FORWARDED_FROM = {
  picker: "the model picker's",
  backend: "the backend picker's",
  pipeline: "the pipeline strip's",
  tour: "the tour's",
};

/**
 * The inner elements' parts <llm-playground> forwards, from the `prefixed('…', '…')` lists of playground-parts.ts,
 * where each name is written once; and the tour's card, which it forwards as tour-card. The manifest test checks
 * these against the exportparts values themselves.
 */
const forwardedParts = () => {
  const source = readFileSync(new URL('src/playground-parts.ts', import.meta.url), 'utf8');
  const lists = [...source.matchAll(/prefixed\(\s*'(\w+)',\s*[`'](.*?)[`'],?\s*\)/gs)];
  return [
    { name: 'tour-card', description: "the tour's card" },
    ...lists.flatMap(([, prefix, names]) =>
      names
        .split(/\s+/)
        .filter(Boolean)
        .map((name) => ({ name: `${prefix}-${name}`, description: `${FORWARDED_FROM[prefix]} ${name}` })),
    ),
  ];
};

/** Keeps only the public elements and their public members: the rest (types, helpers, private state) is not API. */
function publicApiOnly() {
  return {
    name: 'llm-playground-public-api',
    packageLinkPhase({ customElementsManifest }) {
      const cssProperties = themeProperties();
      for (const module of customElementsManifest.modules) {
        module.declarations = (module.declarations ?? []).filter((declaration) => declaration.customElement);
        for (const element of module.declarations) {
          element.members = (element.members ?? []).filter(
            (member) => !member.static && (member.privacy ?? 'public') === 'public',
          );
          element.cssProperties = cssProperties;
          if (element.tagName === 'llm-playground') {
            element.events = playgroundEvents();
            element.cssParts = [...(element.cssParts ?? []), ...forwardedParts()];
          }
        }
        const kept = new Set(module.declarations.map((declaration) => declaration.name));
        module.exports = [
          ...(module.exports ?? []).filter((entry) => kept.has(entry.declaration.name)),
          // define() (src/define.ts) registers each tag when the module loads, which the analyzer cannot see.
          ...module.declarations.map(({ name, tagName }) => ({
            kind: 'custom-element-definition',
            name: tagName,
            declaration: { name, module: module.path },
          })),
        ];
      }
      // The package ships the built library, not src/: its entry exports every one of these classes and defines
      // their tags, so the manifest names that one module.
      const entry = 'dist/lib/llm-playground.js';
      customElementsManifest.modules = [
        {
          kind: 'javascript-module',
          path: entry,
          declarations: customElementsManifest.modules.flatMap((module) => module.declarations),
          exports: customElementsManifest.modules.flatMap((module) =>
            module.exports.map((entryExport) => ({ ...entryExport, declaration: { ...entryExport.declaration, module: entry } })),
          ),
        },
      ];
    },
  };
}

export default {
  globs: PUBLIC_ELEMENTS,
  outdir: 'dist/lib',
  litelement: true,
  // package.json names the manifest itself; left on, a run into another folder would rewrite it.
  packagejson: false,
  plugins: [publicApiOnly()],
};
