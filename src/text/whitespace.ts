// Whitespace tests for the offsets code, without a regular expression for ASCII: they run per character or token.

/** JavaScript's `\s` for ASCII: tab, line feed, vertical tab, form feed, carriage return and space. */
export function isAsciiWhitespace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

const WHITESPACE = /^\s$/u;

/** `\s` for the character of `width` UTF-16 code units (1, or 2 for a surrogate pair) at `index`. */
export function isWhitespaceSymbol(text: string, index: number, width: number): boolean {
  return WHITESPACE.test(width === 1 ? text[index] : text.slice(index, index + width));
}

/** `/\s/u.test(text[index])`, without a regular expression for ASCII: it runs for every token of every request. */
export function isWhitespaceCharacter(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code < 0x80 ? isAsciiWhitespace(code) : WHITESPACE.test(text[index]);
}

/** Past ASCII whitespace from `at`: tab, line feed, vertical tab, form feed, carriage return and space. */
export function skipAsciiSpaces(text: string, at: number): number {
  while (at < text.length && isAsciiWhitespace(text.charCodeAt(at))) at++;
  return at;
}
