import {
  type CollectionTag,
  isAlias,
  isCollection,
  isScalar,
  parseDocument,
  type ScalarTag,
  visit,
  YAMLMap,
  YAMLSeq,
} from 'yaml';

/*
 * YAML bodies read as kube-apiserver reads them (sigs.k8s.io/yaml over go-yaml): explicit YAML
 * 1.1 tags become the JSON value upstream stores, merge keys merge, and what JSON cannot hold is
 * refused. The yaml package would otherwise turn `!!binary` into bytes, `!!timestamp` into a Date
 * and `!!set`/`!!omap` into a Set/Map, which nothing downstream can validate or store.
 */

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** `!!binary`: the decoded bytes as text, invalid UTF-8 replaced, as upstream's JSON holds it. */
const binaryAsText: ScalarTag = {
  tag: 'tag:yaml.org,2002:binary',
  default: false,
  resolve(source, onError) {
    const base64 = source.replace(/\s+/g, '');
    if (!STANDARD_BASE64.test(base64)) {
      onError('!!binary value contains invalid base64 data');
      return source;
    }
    return new TextDecoder().decode(Buffer.from(base64, 'base64'));
  },
};

/** `!!timestamp`: the text as written (upstream keeps it a string). */
const timestampAsText: ScalarTag = {
  tag: 'tag:yaml.org,2002:timestamp',
  default: false,
  resolve: (source) => source,
};

/** A YAML 1.1 collection tag read as the plain mapping or sequence it is written as. */
const plain = (tag: string, collection: 'map' | 'seq'): CollectionTag => ({
  tag: `tag:yaml.org,2002:${tag}`,
  collection,
  default: false,
  nodeClass: collection === 'map' ? YAMLMap : YAMLSeq,
  resolve: (node) => node,
});

const TAGS = [
  binaryAsText,
  timestampAsText,
  plain('set', 'map'),
  plain('omap', 'seq'),
  plain('pairs', 'seq'),
];

/** Aliases may expand to at most this many nodes in all (no "billion laughs"). */
const MAX_ALIAS_COUNT = 100;

/**
 * A YAML body as the JSON value upstream would decode it. Throws (the caller answers 400) for syntax
 * errors, invalid tag content, keys JSON cannot hold (null, collections) and alias expansion
 * past MAX_ALIAS_COUNT; deep nesting throws the yaml package's RESOURCE_EXHAUSTION error.
 */
export function parseYamlBody(text: string): unknown {
  const document = parseDocument(text, { customTags: (tags) => [...tags, ...TAGS], merge: true });
  const [error] = document.errors;
  if (error) throw error;
  const badKey = unsupportedKey(document);
  if (badKey) throw new Error(badKey);
  return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
}

/** The first mapping key JSON has no spelling for, described, or undefined. */
function unsupportedKey(document: ReturnType<typeof parseDocument>): string | undefined {
  let problem: string | undefined;
  visit(document, {
    Pair(_key, pair) {
      const key = isAlias(pair.key) ? pair.key.resolve(document) : pair.key;
      if (isCollection(key)) problem = 'invalid map key: a mapping or sequence';
      else if (key === null || (isScalar(key) && key.value === null)) {
        problem = 'unsupported map key: null';
      }
      return problem ? visit.BREAK : undefined;
    },
  });
  return problem;
}
