// custom-elements.json against the README and the source: what editors and Storybook read must be what the README
// promises and what the elements really have. The analyzer runs into a temporary folder with the project's own config.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { BACKEND_PARTS, PICKER_PARTS, PIPELINE_PARTS, TOUR_PARTS } from '../../src/playground-parts.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

interface Named {
  name: string;
  description?: string;
  type?: { text: string };
  attribute?: string;
}
interface Element {
  name: string;
  tagName?: string;
  customElement?: boolean;
  summary?: string;
  attributes?: Named[];
  members?: Named[];
  events?: Named[];
  cssParts?: Named[];
  cssProperties?: Named[];
  slots?: Named[];
}
interface Manifest {
  modules: { path: string; declarations?: Element[]; exports?: { kind: string; name: string }[] }[];
}

const SOURCES: Record<string, string> = {
  'llm-playground': 'src/llm-playground.ts',
  'llm-softmax-lab': 'src/elements/softmax-lab.ts',
  'llm-parameter-lab': 'src/elements/parameter-lab.ts',
  'llm-superposition-lab': 'src/elements/superposition-lab.ts',
  'llm-fact-mlp-lab': 'src/elements/fact-mlp-lab.ts',
  'llm-training-step-lab': 'src/elements/training-step-lab.ts',
};

const names = (list: Named[] | undefined): string[] => (list ?? []).map(({ name }) => name);

/** Fails naming what each side lacks, so the message says which list to fix. */
function sameNames(where: string, manifest: Iterable<string>, other: Iterable<string>, otherName = 'the README'): void {
  const inManifest = new Set(manifest);
  const inOther = new Set(other);
  const notInOther = [...inManifest].filter((name) => !inOther.has(name));
  const notInManifest = [...inOther].filter((name) => !inManifest.has(name));
  assert.ok(
    notInOther.length + notInManifest.length === 0,
    `${where}: missing in ${otherName}: ${notInOther.join(', ') || 'none'}; ` +
      `missing in custom-elements.json (the element's JSDoc): ${notInManifest.join(', ') || 'none'}`,
  );
}

// --- The README's lists, in "Use it in your own page". ---

/**
 * Backticked names outside links and parentheses: in "`model` (URL of a `.safetensors` …)" only `model`. Code that is
 * not a name (`addEventListener('llm-token', …)`) goes first, so its parentheses are not taken for prose's.
 */
function listedNames(text: string, pattern = /^(--)?[a-z][a-z0-9-]*$/i): string[] {
  let plain = text
    .replace(/`([^`]*)`/g, (code, name: string) => (/^[\w-]+$/.test(name) ? code : ''))
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '');
  for (let before = ''; before !== plain;) [before, plain] = [plain, plain.replace(/\([^()]*\)/g, '')];
  return [...plain.matchAll(/`([^`]+)`/g)].map(([, name]) => name!).filter((name) => pattern.test(name));
}

interface ReadmeLists {
  attributes: string[];
  properties: string[];
  events: string[];
  parts: string[];
  cssProperties: string[];
}

function readmeLists(): Map<string, ReadmeLists> {
  const readme = read('README.md');
  const start = readme.indexOf('## Use it in your own page');
  assert.ok(start >= 0, 'README: no "## Use it in your own page" section');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  // Top-level bullets, each with its continuation lines and nested bullets.
  const bullets = section.split(/\n(?=- )/).filter((bullet) => bullet.startsWith('- '));
  const bullet = (label: string): string => {
    const found = bullets.find((text) => text.startsWith(`- **${label}`));
    assert.ok(found, `README: no "- **${label}" bullet in "Use it in your own page"`);
    return found.replace(/^- \*\*[^*]+\*\*/, '');
  };
  const cssProperties = listedNames(bullet('Theming'), /^--[a-z0-9-]+$/);
  const lists = new Map<string, ReadmeLists>();
  lists.set('llm-playground', {
    attributes: listedNames(bullet('Attributes')),
    properties: listedNames(bullet('Properties'), /^[a-z][a-zA-Z]*$/),
    events: listedNames(bullet('Events')),
    parts: listedNames(bullet('Parts')),
    cssProperties,
  });
  // "  - `<llm-x-lab>`: attribute `a`; properties `p`, `q`; parts `r`, `s`." under the labs' bullet.
  for (const lab of bullet('The concept labs')
    .split(/\n {2}- /)
    .slice(1)) {
    const tag = /^`<([a-z-]+)>`:/.exec(lab)?.[1];
    assert.ok(tag, `README: a lab line without its tag: ${lab.slice(0, 60)}`);
    const segment = (word: RegExp, pattern?: RegExp) =>
      lab
        .split(';')
        .filter((part) => word.test(part))
        .flatMap((part) => listedNames(part, pattern));
    lists.set(tag, {
      attributes: segment(/\battributes?\b/),
      properties: segment(/\bpropert(y|ies)\b/, /^[a-z][a-zA-Z]*$/),
      events: segment(/\bevents?\b/),
      parts: segment(/\bparts?\b/),
      cssProperties,
    });
  }
  return lists;
}

// --- The source. ---

/** The attributes Lit observes, from `static properties` (as Lit names them: `attribute`, else the lowercased name). */
function observedAttributes(path: string): string[] {
  const source = ts.createSourceFile(path, read(path), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isPropertyDeclaration(node) &&
      node.name.getText() === 'properties' &&
      node.modifiers?.some((modifier) => modifier.kind === ts.SyntaxKind.StaticKeyword) &&
      node.initializer &&
      ts.isObjectLiteralExpression(node.initializer)
    ) {
      for (const property of node.initializer.properties) {
        // Spreads are states(...): internal reactive state, never an attribute.
        if (!ts.isPropertyAssignment(property) || !ts.isObjectLiteralExpression(property.initializer)) continue;
        const attribute = property.initializer.properties.find(
          (option): option is ts.PropertyAssignment => ts.isPropertyAssignment(option) && option.name.getText() === 'attribute',
        )?.initializer;
        if (attribute?.kind === ts.SyntaxKind.FalseKeyword) continue;
        found.push(attribute && ts.isStringLiteral(attribute) ? attribute.text : property.name.getText().toLowerCase());
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** events.ts's LlmEvents: each event's name and its detail's type, as written there. */
function declaredEvents(): Map<string, string> {
  const source = ts.createSourceFile('events.ts', read('src/events.ts'), ts.ScriptTarget.Latest, true);
  const events = new Map<string, string>();
  ts.forEachChild(source, (node) => {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== 'LlmEvents') return;
    for (const member of node.members) {
      if (ts.isPropertySignature(member) && member.type) {
        events.set((member.name as ts.StringLiteral).text, member.type.getText());
      }
    }
  });
  assert.ok(events.size > 0, 'src/events.ts: no LlmEvents interface');
  return events;
}

/** Types compared as text, whatever the spacing and the last semicolon of an object type. */
const sameType = (type: string): string => type.replace(/\s+/g, '').replace(/;}/g, '}');

/** The names an exportparts value gives out: "a, b: c" → a, c. */
const exported = (value: string): string[] => value.split(',').map((entry) => entry.split(':').at(-1)!.trim());

// --- The tests. ---

describe('custom-elements.json', () => {
  let folder: string;
  let elements: Map<string, Element>;
  let definitions: string[];
  let readme: Map<string, ReadmeLists>;

  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'llm-manifest-'));
    // The analyzer joins --outdir to its working folder, so it is given relative to the project.
    const cem = join(root, 'node_modules/@custom-elements-manifest/analyzer/cem.js');
    await promisify(execFile)(process.execPath, [cem, 'analyze', '--quiet', '--outdir', relative(root, folder)], {
      cwd: root,
    });
    const manifest = JSON.parse(readFileSync(join(folder, 'custom-elements.json'), 'utf8')) as Manifest;
    const declarations = manifest.modules.flatMap((module) => module.declarations ?? []);
    elements = new Map(declarations.map((declaration) => [declaration.tagName ?? `(no tag) ${declaration.name}`, declaration]));
    definitions = manifest.modules.flatMap(({ exports }) =>
      (exports ?? []).filter(({ kind }) => kind === 'custom-element-definition').map(({ name }) => name),
    );
    readme = readmeLists();
  });

  after(() => rmSync(folder, { recursive: true, force: true }));

  test('holds the six public elements, each with its tag name and a summary, and nothing else', () => {
    sameNames('the elements', elements.keys(), Object.keys(SOURCES), 'the public elements (SOURCES in this test)');
    sameNames('the tags defined', definitions, Object.keys(SOURCES), 'the public elements (SOURCES in this test)');
    for (const [tag, element] of elements) {
      assert.ok(element.customElement, `${tag}: not marked as a custom element`);
      assert.ok(element.summary, `${tag}: no @summary`);
    }
  });

  test('lists the attributes, properties, events, parts and custom properties the README lists, and no others', () => {
    for (const [tag, element] of elements) {
      const listed = readme.get(tag);
      assert.ok(listed, `README: no list for <${tag}>`);
      sameNames(`<${tag}> attributes`, names(element.attributes), listed.attributes);
      sameNames(`<${tag}> events`, names(element.events), listed.events);
      sameNames(`<${tag}> parts`, names(element.cssParts), listed.parts);
      sameNames(`<${tag}> CSS custom properties`, names(element.cssProperties), listed.cssProperties);
      // The playground's README names the properties that have no attribute; a lab's line names them all.
      const properties = (element.members ?? []).filter((member) => tag !== 'llm-playground' || !member.attribute);
      sameNames(
        `<${tag}> properties${tag === 'llm-playground' ? ' with no attribute' : ''}`,
        names(properties),
        listed.properties,
      );
    }
  });

  test('describes every attribute, property and event', () => {
    for (const [tag, element] of elements) {
      for (const [kind, list] of Object.entries({
        attribute: element.attributes,
        property: element.members,
        event: element.events,
      })) {
        const bare = (list ?? []).filter(({ description }) => !description?.trim()).map(({ name }) => name);
        assert.deepEqual(bare, [], `<${tag}>: ${kind}s with no description in the JSDoc: ${bare.join(', ')}`);
      }
    }
  });

  test("gives the playground every event of src/events.ts, each with events.ts's detail type", () => {
    const declared = declaredEvents();
    const playground = elements.get('llm-playground')!;
    sameNames('<llm-playground> events', names(playground.events), declared.keys(), "src/events.ts's LlmEvents");
    for (const event of playground.events ?? []) {
      assert.ok(event.type?.text, `<llm-playground>: @fires ${event.name} has no {detail type}`);
      assert.equal(sameType(event.type.text), sameType(declared.get(event.name) ?? ''), `${event.name}: detail type`);
    }
    for (const [tag, element] of elements) {
      for (const event of element.events ?? []) {
        assert.ok(event.type?.text, `<${tag}>: @fires ${event.name} has no {detail type}`);
      }
    }
  });

  test('has every attribute the elements observe, and no other', () => {
    for (const [tag, path] of Object.entries(SOURCES)) {
      sameNames(
        `<${tag}> attributes`,
        names(elements.get(tag)?.attributes),
        observedAttributes(path),
        `the static properties of ${path}`,
      );
    }
  });

  test('has every part the templates give out, and the parts the playground forwards', () => {
    for (const [tag, path] of Object.entries(SOURCES)) {
      const source = read(path);
      // part="a b" and part="field ${key}": the names written out (a computed one is documented by hand).
      const own = [...source.matchAll(/\bpart="([^"]+)"/g)]
        .flatMap(([, value]) => value!.split(/\s+/))
        .filter((name) => !name.includes('${'));
      const forwarded = [...source.matchAll(/\bexportparts="([^"]+)"/g)].flatMap(([, value]) => exported(value!));
      const inner = tag === 'llm-playground' ? [PICKER_PARTS, BACKEND_PARTS, PIPELINE_PARTS, TOUR_PARTS].flatMap(exported) : [];
      const documented = new Set(names(elements.get(tag)?.cssParts));
      const missing = [...new Set([...own, ...forwarded, ...inner])].filter((name) => !documented.has(name));
      assert.deepEqual(missing, [], `<${tag}>: parts in ${path} with no @csspart: ${missing.join(', ')}`);
    }
  });
});
