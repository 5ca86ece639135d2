// GPT-2 byte-level BPE spells every byte as a printable character so that vocabularies and merges
// are plain strings: printable Latin-1 bytes stand for themselves, the rest (controls, space, ...)
// take the code points from U+0100 upwards in byte order.

function isPrintable(b: number): boolean {
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

export const BYTE_TO_CHAR: readonly string[] = (() => {
  let next = 0x100;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(isPrintable(b) ? b : next++));
})();

/** The byte-level spelling of a piece of text. */
export function byteLevel(text: string): string {
  return Array.from(new TextEncoder().encode(text), (b) => BYTE_TO_CHAR[b]).join('');
}
