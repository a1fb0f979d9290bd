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
