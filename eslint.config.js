// ESLint: the recommended JavaScript and TypeScript rules, and the Lit and
// web-component rules for the elements. Formatting is Prettier's (see .prettierrc.json).
import js from '@eslint/js';
import lit from 'eslint-plugin-lit';
import wc from 'eslint-plugin-wc';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'test-results/',
      // AssemblyScript, compiled into the generated gemm-wasm.ts.
      'workers/engine/wasm/gemm.ts',
      'workers/engine/wasm/gelu.ts',
      'workers/engine/wasm/gemm-wasm.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts'],
    extends: [lit.configs['flat/recommended'], wc.configs['flat/best-practice']],
    rules: {
      // A page whose content security policy says style-src 'self' refuses style attributes: bars would draw full
      // width. styleProperties() (src/style-properties.ts) sets the same properties through the CSSOM instead.
      'no-restricted-syntax': [
        'error',
        {
          selector: 'TaggedTemplateExpression[tag.name=/^(html|svg)$/] TemplateElement[value.raw=/\\sstyle=/]',
          message: "A style attribute is refused under style-src 'self': use styleProperties() from src/style-properties.ts.",
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'lit/directives/style-map.js',
              message:
                "styleMap writes a style attribute on its first render, refused under style-src 'self': use styleProperties().",
            },
          ],
        },
      ],
    },
  },
  {
    languageOptions: { globals: { ...globals.browser, ...globals.worker, ...globals.node, ...globals.mocha } },
    rules: {
      // Unused arguments named _x say so on purpose (an interface's parameter a fake ignores).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['test/**/*.ts'],
    // Chai's property assertions (`expect(x).to.be.NaN`) are expressions on purpose.
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
);
