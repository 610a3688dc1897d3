import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { JSONSchemaProps, PrinterColumn, ServedCrd } from './types.js';

/** The repository's `crds/` folder; the same relative path from `src/` and from `dist/`. */
export const defaultCrdDirectory = fileURLToPath(new URL('../../../crds/', import.meta.url));

/** The column a CRD without printer columns gets, as the real API server defaults it. */
const AGE_COLUMN: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
};

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  subresources?: { status?: object };
  additionalPrinterColumns?: PrinterColumn[];
  schema?: { openAPIV3Schema?: JSONSchemaProps };
}

interface CrdDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: {
      kind: string;
      listKind?: string;
      plural: string;
      singular?: string;
      shortNames?: string[];
      categories?: string[];
    };
    versions: CrdVersion[];
  };
}

/** Parses every CustomResourceDefinition in `dir/*.yaml`: one entry per served version. */
export function loadServedCrds(dir: string = defaultCrdDirectory): ServedCrd[] {
  const files = readdirSync(dir)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort();
  return files.flatMap((file) => crdsOfFile(join(dir, file)));
}

function crdsOfFile(path: string): ServedCrd[] {
  const documents = parseAllDocuments(readFileSync(path, 'utf8'));
  return documents.flatMap((document) => {
    if (document.errors.length > 0) {
      throw new Error(`parse ${path}`, { cause: document.errors[0] });
    }
    const crd = document.toJS() as CrdDocument | null;
    if (crd?.kind !== 'CustomResourceDefinition') return [];
    if (crd.apiVersion !== 'apiextensions.k8s.io/v1') {
      throw new Error(`${path}: ${crd.metadata?.name} is not apiextensions.k8s.io/v1`);
    }
    return crd.spec.versions
      .filter((version) => version.served)
      .map((version) => servedVersion(path, crd, version));
  });
}

function servedVersion(path: string, crd: CrdDocument, version: CrdVersion): ServedCrd {
  const schema = version.schema?.openAPIV3Schema;
  if (!schema) {
    throw new Error(`${path}: ${crd.metadata.name} ${version.name} has no openAPIV3Schema`);
  }
  const { names } = crd.spec;
  return {
    group: crd.spec.group,
    version: version.name,
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    plural: names.plural,
    singular: names.singular ?? names.kind.toLowerCase(),
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    namespaced: crd.spec.scope === 'Namespaced',
    printerColumns: version.additionalPrinterColumns ?? [AGE_COLUMN],
    statusSubresource: version.subresources?.status !== undefined,
    schema,
  };
}
