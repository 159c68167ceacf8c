import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * k6 runs the scenario files in its own JavaScript engine (goja), not in Node: no Node modules or
 * globals, and none of the syntax k6 v0.49 does not parse. This reads every file k6 loads and names
 * what would break there.
 */

const LOADTEST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../loadtest');
const FILES = [
  ...fs.readdirSync(LOADTEST).filter((f) => f.endsWith('.js')),
  ...fs
    .readdirSync(path.join(LOADTEST, 'lib'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => `lib/${f}`),
];
const NODE_GLOBALS = new Set(['process', 'Buffer', 'require', 'module', '__dirname', '__filename', 'globalThis', 'setImmediate']);

function k6Problems(fileName: string, source: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const problems: string[] = [];
  const at = (node: ts.Node, what: string) => {
    const { line } = file.getLineAndCharacterOfPosition(node.getStart(file));
    problems.push(`${fileName}:${line + 1}: ${what}`);
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node) || ts.isCallExpression(node)) && node.questionDotToken)
      at(node, 'optional chaining (?.)');
    if (
      ts.isBinaryExpression(node) &&
      (node.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken || node.operatorToken.kind === ts.SyntaxKind.QuestionQuestionEqualsToken)
    )
      at(node, 'nullish coalescing (??)');
    if (ts.isBinaryExpression(node) && [ts.SyntaxKind.BarBarEqualsToken, ts.SyntaxKind.AmpersandAmpersandEqualsToken].includes(node.operatorToken.kind))
      at(node, 'logical assignment');
    if (ts.isSpreadAssignment(node)) at(node, 'object spread');
    if (ts.isPropertyDeclaration(node)) at(node, 'class field');
    if (ts.isPrivateIdentifier(node)) at(node, 'private name (#)');
    if (ts.isBigIntLiteral(node)) at(node, 'BigInt literal');
    if (ts.isMetaProperty(node)) at(node, 'import.meta');
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) at(node, 'dynamic import()');
    if (ts.isAwaitExpression(node) && !isInsideFunction(node)) at(node, 'top-level await');
    if (ts.isIdentifier(node) && NODE_GLOBALS.has(node.text) && !isPropertyName(node)) at(node, `Node global ${node.text}`);
    if (ts.isImportDeclaration(node)) {
      const from = (node.moduleSpecifier as ts.StringLiteral).text;
      if (!/^\.\.?\//.test(from) && from !== 'k6' && !from.startsWith('k6/')) at(node, `import from ${from} (k6 loads only k6 modules and relative files)`);
      if (/^\.\.?\//.test(from) && !from.endsWith('.js')) at(node, `import ${from} without its .js extension`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  const diagnostics = (file as unknown as { parseDiagnostics: ts.Diagnostic[] }).parseDiagnostics;
  for (const d of diagnostics) problems.push(`${fileName}: syntax error: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  return problems;
}

function isPropertyName(node: ts.Identifier): boolean {
  const parent = node.parent;
  return (
    (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
    (ts.isPropertyAssignment(parent) && parent.name === node) ||
    (ts.isMethodDeclaration(parent) && parent.name === node)
  );
}

function isInsideFunction(node: ts.Node): boolean {
  for (let p = node.parent; p; p = p.parent) if (ts.isFunctionLike(p)) return true;
  return false;
}

describe('files k6 loads', () => {
  it('are the scenarios and their library', () => {
    expect(FILES).toEqual(expect.arrayContaining(['smoke.js', 'lib/flows.js', 'lib/mcp.js', 'lib/k6-adapter.js']));
  });

  it.each(FILES)('%s uses only what k6 runs', (file) => {
    expect(k6Problems(file, fs.readFileSync(path.join(LOADTEST, file), 'utf8'))).toEqual([]);
  });

  it('the check names what k6 would reject', () => {
    const source = [
      "import fs from 'node:fs';",
      "import { x } from './x';",
      'const a = b?.c;',
      'const d = e ?? 1;',
      'const f = { ...g };',
      'class H { i = 1; }',
      'await j();',
      'process.exit(1);',
    ].join('\n');
    expect(k6Problems('bad.js', source).map((p) => p.replace(/^bad\.js:\d+: /, ''))).toEqual([
      'import from node:fs (k6 loads only k6 modules and relative files)',
      'import ./x without its .js extension',
      'optional chaining (?.)',
      'nullish coalescing (??)',
      'object spread',
      'class field',
      'top-level await',
      'Node global process',
    ]);
  });
});
