import path from 'node:path';
import ts from 'typescript';
import type { Manifest } from './helm.runner.ts';
import { KINDS, kindKey } from './manifest.kinds.ts';
import { describe, type ManifestProblem } from './manifest.validator.ts';
import { fromRoot } from './repo.paths.ts';

/**
 * Finds fields the Kubernetes API does not know (a misspelt `readOnlyRootFilesystem` would be
 * silently dropped by the API server). The schema validators accept unknown fields, so each
 * manifest becomes an object literal typed with the kind's generated interface and TypeScript's
 * excess-property check reports every unknown field, at any depth.
 */
export function findUnknownFields(manifests: readonly Manifest[]): ManifestProblem[] {
  const known = manifests.filter((m) => KINDS[kindKey(m)]);
  if (known.length === 0) return [];
  // A virtual file inside this package, so that the kinds' modules resolve from its node_modules.
  const fileName = fromRoot('packages', 'ops-checks', 'src', '__rendered-manifests__.ts');
  const lines: string[] = [];
  known.forEach((manifest, index) => {
    const { module, name } = KINDS[kindKey(manifest)]!.type;
    lines.push(`import type { ${name} as T${index} } from '${module}';`);
    lines.push(`export const m${index}: T${index} = ${JSON.stringify(manifest)};`);
  });
  const source = lines.join('\n');

  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, ...rest) =>
    path.resolve(name) === fileName
      ? ts.createSourceFile(name, source, languageVersion, true)
      : getSourceFile(name, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === fileName || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (path.resolve(name) === fileName ? source : readFile(name));

  const program = ts.createProgram([fileName], options, host);
  const virtual = program.getSourceFile(fileName)!;
  return ts.getPreEmitDiagnostics(program, virtual).map((diagnostic) => {
    const line =
      diagnostic.start === undefined
        ? -1
        : virtual.getLineAndCharacterOfPosition(diagnostic.start).line;
    const manifest = known[Math.floor(line / 2)];
    return {
      object: manifest ? describe(manifest) : '?',
      message: ts.flattenDiagnosticMessageText(diagnostic.messageText, ' '),
    };
  });
}
