/** What an operator sees of a rejected value: enough to recognise it, never the whole of it. */
export const DESCRIBE_MAX_LENGTH = 80;

interface Frame {
  readonly items: readonly unknown[] | null;
  readonly object: Record<string, unknown> | null;
  readonly keys: readonly string[];
  index: number;
}

/**
 * Cuts text to at most `max` UTF-16 units, never between the two halves of a surrogate pair, and
 * replaces lone surrogates: the result always fits a utf8mb4 column and a Kafka header.
 */
export function capText(text: string, max: number, ellipsis = '...'): string {
  if (text.length <= max) return text.toWellFormed();
  let end = Math.max(0, max - ellipsis.length);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end).toWellFormed()}${ellipsis}`;
}

function scalar(value: unknown, room: number): string {
  switch (typeof value) {
    case 'string':
      // Only the part that can be shown is escaped: a 1 MiB string costs no more than a short one.
      return JSON.stringify(value.length > room ? value.slice(0, room) : value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'undefined':
      return 'undefined';
    default:
      return String(value);
  }
}

/**
 * JSON-like text of a parsed value, cut at `max` characters with "...". Iterative and bounded:
 * it stops writing once the text is long enough, so 100,000 nested arrays cost what 80 do, and
 * no input can overflow the stack (JSON.stringify recurses and would).
 */
export function describeValue(input: unknown, max = DESCRIBE_MAX_LENGTH): string {
  let out = '';
  const stack: Frame[] = [];
  const emit = (value: unknown) => {
    if (Array.isArray(value)) {
      out += '[';
      stack.push({ items: value, object: null, keys: [], index: 0 });
    } else if (typeof value === 'object' && value !== null) {
      out += '{';
      const object = value as Record<string, unknown>;
      stack.push({ items: null, object, keys: Object.keys(object), index: 0 });
    } else {
      out += scalar(value, max + 1 - out.length);
    }
  };
  emit(input);
  while (stack.length > 0 && out.length <= max) {
    const frame = stack[stack.length - 1] as Frame;
    const size = frame.items === null ? frame.keys.length : frame.items.length;
    if (frame.index >= size) {
      out += frame.items === null ? '}' : ']';
      stack.pop();
      continue;
    }
    if (frame.index > 0) out += ',';
    const index = frame.index++;
    if (frame.items !== null) {
      emit(frame.items[index]);
    } else {
      const key = frame.keys[index] as string;
      out += `${scalar(key, max + 1 - out.length)}:`;
      emit(frame.object?.[key]);
    }
  }
  return capText(out, max);
}
