// Checks honnx's public entries (node .ci/check-public-api.mjs src/index.ts src/node.ts src/runtime/workers/index.ts):
// every export has a TSDoc comment where it is declared, and every type of src/ that an exported declaration names
// (its signature, its fields) is exported by one of the entries. Prints what is wrong and exits 1, else a summary.
import ts from 'typescript';
import { resolve } from 'node:path';
const entries = process.argv.slice(2).map((p) => resolve(p));
const program = ts.createProgram(entries, { allowImportingTsExtensions: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, strict: true });
const checker = program.getTypeChecker();
const exported = new Set();
const perEntry = new Map();
for (const entry of entries) {
  const sf = program.getSourceFile(entry);
  const symbols = checker.getExportsOfModule(checker.getSymbolAtLocation(sf));
  perEntry.set(entry, symbols);
  for (const s of symbols) { const t = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s; exported.add(t); }
}
const src = resolve('src');
let problems = 0;
for (const [entry, symbols] of perEntry) {
  let undocumented = [], missing = new Map();
  for (const s of symbols) {
    const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
    const decls = target.declarations ?? [];
    const doc = decls.some((d) => ts.getJSDocCommentsAndTags(d).length > 0 || (ts.isVariableDeclaration(d) && ts.getJSDocCommentsAndTags(d.parent.parent).length > 0));
    if (!doc) undocumented.push(`${s.name} (${decls[0]?.getSourceFile().fileName.replace(src + '/', '')})`);
    // referenced types
    const seen = new Set();
    const visit = (node) => {
      if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node)) {
        const name = ts.isTypeReferenceNode(node) ? node.typeName : node.expression;
        let sym = checker.getSymbolAtLocation(name);
        if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
        const d = sym?.declarations?.[0];
        if (sym && d && d.getSourceFile().fileName.startsWith(src) && !exported.has(sym) && !(sym.flags & ts.SymbolFlags.TypeParameter) && !seen.has(sym)) {
          seen.add(sym); const key = `${sym.name} (${d.getSourceFile().fileName.replace(src + '/', '')})`;
          missing.set(key, [...(missing.get(key) ?? []), s.name]);
        }
      }
      // don't descend into function bodies
      if (ts.isBlock(node)) return;
      ts.forEachChild(node, visit);
    };
    for (const d of decls) visit(d);
  }
  console.log(`${entry.replace(src + '/', '')}: ${symbols.length} names, ${undocumented.length} without TSDoc, ${missing.size} types used but not exported`);
  if (undocumented.length) console.log('  without TSDoc:', undocumented.join(', '));
  for (const [k, v] of missing) console.log(`  used, not exported: ${k}, by ${v.slice(0, 4).join(', ')}`);
  problems += undocumented.length + missing.size;
}
process.exit(problems ? 1 : 0);
