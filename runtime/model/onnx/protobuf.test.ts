import { expect } from 'chai';
import { bytesField, floatField, intField, messageField, stringField, varint } from './protobuf.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('protobuf wire encoding', () => {
  it('encodes varints in base 128, least significant group first', () => {
    expect(hex(varint(0))).to.equal('00');
    expect(hex(varint(1))).to.equal('01');
    expect(hex(varint(300))).to.equal('ac02');
    expect(hex(varint(2n ** 63n - 1n))).to.equal('ffffffffffffffff7f');
  });

  it('encodes negative int64 values as ten bytes of two complement', () => {
    expect(hex(varint(-1))).to.equal('ffffffffffffffffff01');
  });

  it('prefixes each field with its number and wire type', () => {
    expect(hex(intField(1, 150))).to.equal('089601');
    expect(hex(stringField(2, 'testing'))).to.equal('120774657374696e67');
    expect(hex(floatField(2, 1))).to.equal('150000803f');
    expect(hex(bytesField(9, Uint8Array.of(1, 2)))).to.equal('4a020102');
  });

  it('length-prefixes embedded messages', () => {
    expect(hex(messageField(3, [intField(1, 150)]))).to.equal('1a03089601');
  });
});
