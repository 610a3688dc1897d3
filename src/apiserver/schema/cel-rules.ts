import { Environment, Optional } from '@marcbachmann/cel-js';
import { fieldError, OMIT_VALUE } from './field-errors.js';
import type { FieldError, ValidationRule } from './types.js';

/** A rule parsed once: the program, whether it is a transition rule, or why it does not compile. */
interface CompiledRule {
  program?: (context: Record<string, unknown>) => unknown;
  message?: (context: Record<string, unknown>) => unknown;
  usesOldSelf: boolean;
  error?: string;
}

/** Where and on what a rule runs: `self` (and `oldSelf`) already converted to CEL values. */
export interface RuleTarget {
  path: string;
  schemaType: string;
  /** The JSON value of `self`, for the error body of a scalar. */
  value: unknown;
  self: unknown;
  /** CEL value of `oldSelf`; undefined when there is no correlated old value. */
  oldSelf?: unknown;
  /** Resolves a rule's `fieldPath` (`.batches`) to a field path below `path`. */
  resolveFieldPath: (fieldPath: string) => string;
}

const environment = new Environment({
  homogeneousAggregateLiterals: false,
  enableOptionalTypes: true,
})
  .registerVariable('self', 'dyn')
  .registerVariable('oldSelf', 'dyn');

const compiled = new Map<string, CompiledRule>();

function mentions(node: unknown, name: string): boolean {
  if (typeof node !== 'object' || node === null) return false;
  if (Array.isArray(node)) return node.some((child) => mentions(child, name));
  const { op, args } = node as { op?: unknown; args?: unknown };
  if (op === 'id') return args === name;
  return mentions(args, name);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

function compile(rule: ValidationRule): CompiledRule {
  const key = `${rule.rule}\u0000${rule.messageExpression ?? ''}`;
  let entry = compiled.get(key);
  if (entry) return entry;
  try {
    const program = environment.parse(rule.rule);
    const checked = program.check();
    if (!checked.valid) throw checked.error;
    if (checked.type !== 'bool' && checked.type !== 'dyn') {
      throw new Error(`rule must evaluate to a bool, not ${checked.type}`);
    }
    const message = rule.messageExpression ? environment.parse(rule.messageExpression) : undefined;
    entry = { program, message, usesOldSelf: mentions(program.ast, 'oldSelf') };
  } catch (error) {
    entry = { usesOldSelf: false, error: firstLine(error) };
  }
  compiled.set(key, entry);
  return entry;
}

/** The rule text for messages: its message when set, else the rule itself. */
function ruleText(rule: ValidationRule): string {
  return (rule.message ?? rule.rule).trim();
}

/** `messageExpression`'s result when it is a usable one-line string, as the API server demands. */
function evaluatedMessage(compiledRule: CompiledRule, context: Record<string, unknown>) {
  if (!compiledRule.message) return undefined;
  try {
    const text = compiledRule.message(context);
    if (typeof text !== 'string') return undefined;
    const trimmed = text.trim();
    return trimmed && !trimmed.includes('\n') && trimmed.length <= 5120 ? trimmed : undefined;
  } catch {
    return undefined;
  }
}

function failure(rule: ValidationRule, target: RuleTarget, detail: string): FieldError {
  const path = rule.fieldPath ? target.resolveFieldPath(rule.fieldPath) : target.path;
  const scalar = target.schemaType !== 'object' && target.schemaType !== 'array';
  const value = scalar ? target.value : OMIT_VALUE;
  switch (rule.reason) {
    case 'FieldValueForbidden':
      return fieldError.forbidden(path, detail);
    case 'FieldValueRequired':
      return fieldError.required(path, detail);
    case 'FieldValueDuplicate':
      return fieldError.duplicate(path, value);
    default:
      return fieldError.invalid(path, value, detail);
  }
}

/**
 * Evaluates one `x-kubernetes-validations` rule with cel-js and returns the field error the API
 * server would report, or undefined when the rule holds or does not apply (a transition rule
 * without an old value, unless `optionalOldSelf` is set).
 */
export function evaluateRule(rule: ValidationRule, target: RuleTarget): FieldError | undefined {
  const compiledRule = compile(rule);
  if (compiledRule.error !== undefined || !compiledRule.program) {
    const detail = `rule compile error: ${compiledRule.error}`;
    return fieldError.invalid(target.path, target.schemaType, detail);
  }
  const hasOld = target.oldSelf !== undefined;
  if (compiledRule.usesOldSelf && !hasOld && !rule.optionalOldSelf) return undefined;
  const context: Record<string, unknown> = { self: target.self };
  if (rule.optionalOldSelf) {
    context.oldSelf = hasOld ? Optional.of(target.oldSelf) : Optional.none();
  } else if (hasOld) {
    context.oldSelf = target.oldSelf;
  }
  let result: unknown;
  try {
    result = compiledRule.program(context);
  } catch (error) {
    const detail = `${firstLine(error)} evaluating rule: ${ruleText(rule)}`;
    return fieldError.invalid(target.path, target.schemaType, detail);
  }
  if (result === true) return undefined;
  const message =
    evaluatedMessage(compiledRule, context) ??
    (rule.message ? rule.message.trim() : `failed rule: ${ruleText(rule)}`);
  return failure(rule, target, message);
}
