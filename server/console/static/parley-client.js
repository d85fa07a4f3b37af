// @parley/client 0.1.0 (web/client), bundled by scripts/build_web: do not edit.
// Includes @msgpack/msgpack 3.1.3 (see web/THIRD_PARTY.md), under this licence:
// Copyright 2019 The MessagePack Community.
//
// Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted, provided that the above copyright notice and this permission notice appear in all copies.
//
// THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.

// web/client/node_modules/@msgpack/msgpack/dist.esm/utils/utf8.mjs
function utf8Count(str) {
  const strLength = str.length;
  let byteLength = 0;
  let pos = 0;
  while (pos < strLength) {
    let value = str.charCodeAt(pos++);
    if ((value & 4294967168) === 0) {
      byteLength++;
      continue;
    } else if ((value & 4294965248) === 0) {
      byteLength += 2;
    } else {
      if (value >= 55296 && value <= 56319) {
        if (pos < strLength) {
          const extra = str.charCodeAt(pos);
          if ((extra & 64512) === 56320) {
            ++pos;
            value = ((value & 1023) << 10) + (extra & 1023) + 65536;
          }
        }
      }
      if ((value & 4294901760) === 0) {
        byteLength += 3;
      } else {
        byteLength += 4;
      }
    }
  }
  return byteLength;
}
function utf8EncodeJs(str, output, outputOffset) {
  const strLength = str.length;
  let offset = outputOffset;
  let pos = 0;
  while (pos < strLength) {
    let value = str.charCodeAt(pos++);
    if ((value & 4294967168) === 0) {
      output[offset++] = value;
      continue;
    } else if ((value & 4294965248) === 0) {
      output[offset++] = value >> 6 & 31 | 192;
    } else {
      if (value >= 55296 && value <= 56319) {
        if (pos < strLength) {
          const extra = str.charCodeAt(pos);
          if ((extra & 64512) === 56320) {
            ++pos;
            value = ((value & 1023) << 10) + (extra & 1023) + 65536;
          }
        }
      }
      if ((value & 4294901760) === 0) {
        output[offset++] = value >> 12 & 15 | 224;
        output[offset++] = value >> 6 & 63 | 128;
      } else {
        output[offset++] = value >> 18 & 7 | 240;
        output[offset++] = value >> 12 & 63 | 128;
        output[offset++] = value >> 6 & 63 | 128;
      }
    }
    output[offset++] = value & 63 | 128;
  }
}
var sharedTextEncoder = new TextEncoder();
var TEXT_ENCODER_THRESHOLD = 50;
function utf8EncodeTE(str, output, outputOffset) {
  sharedTextEncoder.encodeInto(str, output.subarray(outputOffset));
}
function utf8Encode(str, output, outputOffset) {
  if (str.length > TEXT_ENCODER_THRESHOLD) {
    utf8EncodeTE(str, output, outputOffset);
  } else {
    utf8EncodeJs(str, output, outputOffset);
  }
}
var CHUNK_SIZE = 4096;
function utf8DecodeJs(bytes, inputOffset, byteLength) {
  let offset = inputOffset;
  const end = offset + byteLength;
  const units = [];
  let result = "";
  while (offset < end) {
    const byte1 = bytes[offset++];
    if ((byte1 & 128) === 0) {
      units.push(byte1);
    } else if ((byte1 & 224) === 192) {
      const byte2 = bytes[offset++] & 63;
      units.push((byte1 & 31) << 6 | byte2);
    } else if ((byte1 & 240) === 224) {
      const byte2 = bytes[offset++] & 63;
      const byte3 = bytes[offset++] & 63;
      units.push((byte1 & 31) << 12 | byte2 << 6 | byte3);
    } else if ((byte1 & 248) === 240) {
      const byte2 = bytes[offset++] & 63;
      const byte3 = bytes[offset++] & 63;
      const byte4 = bytes[offset++] & 63;
      let unit = (byte1 & 7) << 18 | byte2 << 12 | byte3 << 6 | byte4;
      if (unit > 65535) {
        unit -= 65536;
        units.push(unit >>> 10 & 1023 | 55296);
        unit = 56320 | unit & 1023;
      }
      units.push(unit);
    } else {
      units.push(byte1);
    }
    if (units.length >= CHUNK_SIZE) {
      result += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  if (units.length > 0) {
    result += String.fromCharCode(...units);
  }
  return result;
}
var sharedTextDecoder = new TextDecoder();
var TEXT_DECODER_THRESHOLD = 200;
function utf8DecodeTD(bytes, inputOffset, byteLength) {
  const stringBytes = bytes.subarray(inputOffset, inputOffset + byteLength);
  return sharedTextDecoder.decode(stringBytes);
}
function utf8Decode(bytes, inputOffset, byteLength) {
  if (byteLength > TEXT_DECODER_THRESHOLD) {
    return utf8DecodeTD(bytes, inputOffset, byteLength);
  } else {
    return utf8DecodeJs(bytes, inputOffset, byteLength);
  }
}

// web/client/node_modules/@msgpack/msgpack/dist.esm/ExtData.mjs
var ExtData = class {
  type;
  data;
  constructor(type, data) {
    this.type = type;
    this.data = data;
  }
};

// web/client/node_modules/@msgpack/msgpack/dist.esm/DecodeError.mjs
var DecodeError = class _DecodeError extends Error {
  constructor(message) {
    super(message);
    const proto = Object.create(_DecodeError.prototype);
    Object.setPrototypeOf(this, proto);
    Object.defineProperty(this, "name", {
      configurable: true,
      enumerable: false,
      value: _DecodeError.name
    });
  }
};

// web/client/node_modules/@msgpack/msgpack/dist.esm/utils/int.mjs
var UINT32_MAX = 4294967295;
function setUint64(view, offset, value) {
  const high = value / 4294967296;
  const low = value;
  view.setUint32(offset, high);
  view.setUint32(offset + 4, low);
}
function setInt64(view, offset, value) {
  const high = Math.floor(value / 4294967296);
  const low = value;
  view.setUint32(offset, high);
  view.setUint32(offset + 4, low);
}
function getInt64(view, offset) {
  const high = view.getInt32(offset);
  const low = view.getUint32(offset + 4);
  return high * 4294967296 + low;
}
function getUint64(view, offset) {
  const high = view.getUint32(offset);
  const low = view.getUint32(offset + 4);
  return high * 4294967296 + low;
}

// web/client/node_modules/@msgpack/msgpack/dist.esm/timestamp.mjs
var EXT_TIMESTAMP = -1;
var TIMESTAMP32_MAX_SEC = 4294967296 - 1;
var TIMESTAMP64_MAX_SEC = 17179869184 - 1;
function encodeTimeSpecToTimestamp({ sec, nsec }) {
  if (sec >= 0 && nsec >= 0 && sec <= TIMESTAMP64_MAX_SEC) {
    if (nsec === 0 && sec <= TIMESTAMP32_MAX_SEC) {
      const rv = new Uint8Array(4);
      const view = new DataView(rv.buffer);
      view.setUint32(0, sec);
      return rv;
    } else {
      const secHigh = sec / 4294967296;
      const secLow = sec & 4294967295;
      const rv = new Uint8Array(8);
      const view = new DataView(rv.buffer);
      view.setUint32(0, nsec << 2 | secHigh & 3);
      view.setUint32(4, secLow);
      return rv;
    }
  } else {
    const rv = new Uint8Array(12);
    const view = new DataView(rv.buffer);
    view.setUint32(0, nsec);
    setInt64(view, 4, sec);
    return rv;
  }
}
function encodeDateToTimeSpec(date) {
  const msec = date.getTime();
  const sec = Math.floor(msec / 1e3);
  const nsec = (msec - sec * 1e3) * 1e6;
  const nsecInSec = Math.floor(nsec / 1e9);
  return {
    sec: sec + nsecInSec,
    nsec: nsec - nsecInSec * 1e9
  };
}
function encodeTimestampExtension(object) {
  if (object instanceof Date) {
    const timeSpec = encodeDateToTimeSpec(object);
    return encodeTimeSpecToTimestamp(timeSpec);
  } else {
    return null;
  }
}
function decodeTimestampToTimeSpec(data) {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (data.byteLength) {
    case 4: {
      const sec = view.getUint32(0);
      const nsec = 0;
      return { sec, nsec };
    }
    case 8: {
      const nsec30AndSecHigh2 = view.getUint32(0);
      const secLow32 = view.getUint32(4);
      const sec = (nsec30AndSecHigh2 & 3) * 4294967296 + secLow32;
      const nsec = nsec30AndSecHigh2 >>> 2;
      return { sec, nsec };
    }
    case 12: {
      const sec = getInt64(view, 4);
      const nsec = view.getUint32(0);
      return { sec, nsec };
    }
    default:
      throw new DecodeError(`Unrecognized data size for timestamp (expected 4, 8, or 12): ${data.length}`);
  }
}
function decodeTimestampExtension(data) {
  const timeSpec = decodeTimestampToTimeSpec(data);
  return new Date(timeSpec.sec * 1e3 + timeSpec.nsec / 1e6);
}
var timestampExtension = {
  type: EXT_TIMESTAMP,
  encode: encodeTimestampExtension,
  decode: decodeTimestampExtension
};

// web/client/node_modules/@msgpack/msgpack/dist.esm/ExtensionCodec.mjs
var ExtensionCodec = class _ExtensionCodec {
  static defaultCodec = new _ExtensionCodec();
  // ensures ExtensionCodecType<X> matches ExtensionCodec<X>
  // this will make type errors a lot more clear
  // eslint-disable-next-line @typescript-eslint/naming-convention
  __brand;
  // built-in extensions
  builtInEncoders = [];
  builtInDecoders = [];
  // custom extensions
  encoders = [];
  decoders = [];
  constructor() {
    this.register(timestampExtension);
  }
  register({ type, encode, decode }) {
    if (type >= 0) {
      this.encoders[type] = encode;
      this.decoders[type] = decode;
    } else {
      const index = -1 - type;
      this.builtInEncoders[index] = encode;
      this.builtInDecoders[index] = decode;
    }
  }
  tryToEncode(object, context) {
    for (let i = 0; i < this.builtInEncoders.length; i++) {
      const encodeExt = this.builtInEncoders[i];
      if (encodeExt != null) {
        const data = encodeExt(object, context);
        if (data != null) {
          const type = -1 - i;
          return new ExtData(type, data);
        }
      }
    }
    for (let i = 0; i < this.encoders.length; i++) {
      const encodeExt = this.encoders[i];
      if (encodeExt != null) {
        const data = encodeExt(object, context);
        if (data != null) {
          const type = i;
          return new ExtData(type, data);
        }
      }
    }
    if (object instanceof ExtData) {
      return object;
    }
    return null;
  }
  decode(data, type, context) {
    const decodeExt = type < 0 ? this.builtInDecoders[-1 - type] : this.decoders[type];
    if (decodeExt) {
      return decodeExt(data, type, context);
    } else {
      return new ExtData(type, data);
    }
  }
};

// web/client/node_modules/@msgpack/msgpack/dist.esm/utils/typedArrays.mjs
function isArrayBufferLike(buffer) {
  return buffer instanceof ArrayBuffer || typeof SharedArrayBuffer !== "undefined" && buffer instanceof SharedArrayBuffer;
}
function ensureUint8Array(buffer) {
  if (buffer instanceof Uint8Array) {
    return buffer;
  } else if (ArrayBuffer.isView(buffer)) {
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } else if (isArrayBufferLike(buffer)) {
    return new Uint8Array(buffer);
  } else {
    return Uint8Array.from(buffer);
  }
}

// web/client/node_modules/@msgpack/msgpack/dist.esm/Encoder.mjs
var DEFAULT_MAX_DEPTH = 100;
var DEFAULT_INITIAL_BUFFER_SIZE = 2048;
var Encoder = class _Encoder {
  extensionCodec;
  context;
  useBigInt64;
  maxDepth;
  initialBufferSize;
  sortKeys;
  forceFloat32;
  ignoreUndefined;
  forceIntegerToFloat;
  pos;
  view;
  bytes;
  entered = false;
  constructor(options) {
    this.extensionCodec = options?.extensionCodec ?? ExtensionCodec.defaultCodec;
    this.context = options?.context;
    this.useBigInt64 = options?.useBigInt64 ?? false;
    this.maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.initialBufferSize = options?.initialBufferSize ?? DEFAULT_INITIAL_BUFFER_SIZE;
    this.sortKeys = options?.sortKeys ?? false;
    this.forceFloat32 = options?.forceFloat32 ?? false;
    this.ignoreUndefined = options?.ignoreUndefined ?? false;
    this.forceIntegerToFloat = options?.forceIntegerToFloat ?? false;
    this.pos = 0;
    this.view = new DataView(new ArrayBuffer(this.initialBufferSize));
    this.bytes = new Uint8Array(this.view.buffer);
  }
  clone() {
    return new _Encoder({
      extensionCodec: this.extensionCodec,
      context: this.context,
      useBigInt64: this.useBigInt64,
      maxDepth: this.maxDepth,
      initialBufferSize: this.initialBufferSize,
      sortKeys: this.sortKeys,
      forceFloat32: this.forceFloat32,
      ignoreUndefined: this.ignoreUndefined,
      forceIntegerToFloat: this.forceIntegerToFloat
    });
  }
  reinitializeState() {
    this.pos = 0;
  }
  /**
   * This is almost equivalent to {@link Encoder#encode}, but it returns an reference of the encoder's internal buffer and thus much faster than {@link Encoder#encode}.
   *
   * @returns Encodes the object and returns a shared reference the encoder's internal buffer.
   */
  encodeSharedRef(object) {
    if (this.entered) {
      const instance = this.clone();
      return instance.encodeSharedRef(object);
    }
    try {
      this.entered = true;
      this.reinitializeState();
      this.doEncode(object, 1);
      return this.bytes.subarray(0, this.pos);
    } finally {
      this.entered = false;
    }
  }
  /**
   * @returns Encodes the object and returns a copy of the encoder's internal buffer.
   */
  encode(object) {
    if (this.entered) {
      const instance = this.clone();
      return instance.encode(object);
    }
    try {
      this.entered = true;
      this.reinitializeState();
      this.doEncode(object, 1);
      return this.bytes.slice(0, this.pos);
    } finally {
      this.entered = false;
    }
  }
  doEncode(object, depth) {
    if (depth > this.maxDepth) {
      throw new Error(`Too deep objects in depth ${depth}`);
    }
    if (object == null) {
      this.encodeNil();
    } else if (typeof object === "boolean") {
      this.encodeBoolean(object);
    } else if (typeof object === "number") {
      if (!this.forceIntegerToFloat) {
        this.encodeNumber(object);
      } else {
        this.encodeNumberAsFloat(object);
      }
    } else if (typeof object === "string") {
      this.encodeString(object);
    } else if (this.useBigInt64 && typeof object === "bigint") {
      this.encodeBigInt64(object);
    } else {
      this.encodeObject(object, depth);
    }
  }
  ensureBufferSizeToWrite(sizeToWrite) {
    const requiredSize = this.pos + sizeToWrite;
    if (this.view.byteLength < requiredSize) {
      this.resizeBuffer(requiredSize * 2);
    }
  }
  resizeBuffer(newSize) {
    const newBuffer = new ArrayBuffer(newSize);
    const newBytes = new Uint8Array(newBuffer);
    const newView = new DataView(newBuffer);
    newBytes.set(this.bytes);
    this.view = newView;
    this.bytes = newBytes;
  }
  encodeNil() {
    this.writeU8(192);
  }
  encodeBoolean(object) {
    if (object === false) {
      this.writeU8(194);
    } else {
      this.writeU8(195);
    }
  }
  encodeNumber(object) {
    if (!this.forceIntegerToFloat && Number.isSafeInteger(object)) {
      if (object >= 0) {
        if (object < 128) {
          this.writeU8(object);
        } else if (object < 256) {
          this.writeU8(204);
          this.writeU8(object);
        } else if (object < 65536) {
          this.writeU8(205);
          this.writeU16(object);
        } else if (object < 4294967296) {
          this.writeU8(206);
          this.writeU32(object);
        } else if (!this.useBigInt64) {
          this.writeU8(207);
          this.writeU64(object);
        } else {
          this.encodeNumberAsFloat(object);
        }
      } else {
        if (object >= -32) {
          this.writeU8(224 | object + 32);
        } else if (object >= -128) {
          this.writeU8(208);
          this.writeI8(object);
        } else if (object >= -32768) {
          this.writeU8(209);
          this.writeI16(object);
        } else if (object >= -2147483648) {
          this.writeU8(210);
          this.writeI32(object);
        } else if (!this.useBigInt64) {
          this.writeU8(211);
          this.writeI64(object);
        } else {
          this.encodeNumberAsFloat(object);
        }
      }
    } else {
      this.encodeNumberAsFloat(object);
    }
  }
  encodeNumberAsFloat(object) {
    if (this.forceFloat32) {
      this.writeU8(202);
      this.writeF32(object);
    } else {
      this.writeU8(203);
      this.writeF64(object);
    }
  }
  encodeBigInt64(object) {
    if (object >= BigInt(0)) {
      this.writeU8(207);
      this.writeBigUint64(object);
    } else {
      this.writeU8(211);
      this.writeBigInt64(object);
    }
  }
  writeStringHeader(byteLength) {
    if (byteLength < 32) {
      this.writeU8(160 + byteLength);
    } else if (byteLength < 256) {
      this.writeU8(217);
      this.writeU8(byteLength);
    } else if (byteLength < 65536) {
      this.writeU8(218);
      this.writeU16(byteLength);
    } else if (byteLength < 4294967296) {
      this.writeU8(219);
      this.writeU32(byteLength);
    } else {
      throw new Error(`Too long string: ${byteLength} bytes in UTF-8`);
    }
  }
  encodeString(object) {
    const maxHeaderSize = 1 + 4;
    const byteLength = utf8Count(object);
    this.ensureBufferSizeToWrite(maxHeaderSize + byteLength);
    this.writeStringHeader(byteLength);
    utf8Encode(object, this.bytes, this.pos);
    this.pos += byteLength;
  }
  encodeObject(object, depth) {
    const ext = this.extensionCodec.tryToEncode(object, this.context);
    if (ext != null) {
      this.encodeExtension(ext);
    } else if (Array.isArray(object)) {
      this.encodeArray(object, depth);
    } else if (ArrayBuffer.isView(object)) {
      this.encodeBinary(object);
    } else if (typeof object === "object") {
      this.encodeMap(object, depth);
    } else {
      throw new Error(`Unrecognized object: ${Object.prototype.toString.apply(object)}`);
    }
  }
  encodeBinary(object) {
    const size = object.byteLength;
    if (size < 256) {
      this.writeU8(196);
      this.writeU8(size);
    } else if (size < 65536) {
      this.writeU8(197);
      this.writeU16(size);
    } else if (size < 4294967296) {
      this.writeU8(198);
      this.writeU32(size);
    } else {
      throw new Error(`Too large binary: ${size}`);
    }
    const bytes = ensureUint8Array(object);
    this.writeU8a(bytes);
  }
  encodeArray(object, depth) {
    const size = object.length;
    if (size < 16) {
      this.writeU8(144 + size);
    } else if (size < 65536) {
      this.writeU8(220);
      this.writeU16(size);
    } else if (size < 4294967296) {
      this.writeU8(221);
      this.writeU32(size);
    } else {
      throw new Error(`Too large array: ${size}`);
    }
    for (const item of object) {
      this.doEncode(item, depth + 1);
    }
  }
  countWithoutUndefined(object, keys) {
    let count = 0;
    for (const key of keys) {
      if (object[key] !== void 0) {
        count++;
      }
    }
    return count;
  }
  encodeMap(object, depth) {
    const keys = Object.keys(object);
    if (this.sortKeys) {
      keys.sort();
    }
    const size = this.ignoreUndefined ? this.countWithoutUndefined(object, keys) : keys.length;
    if (size < 16) {
      this.writeU8(128 + size);
    } else if (size < 65536) {
      this.writeU8(222);
      this.writeU16(size);
    } else if (size < 4294967296) {
      this.writeU8(223);
      this.writeU32(size);
    } else {
      throw new Error(`Too large map object: ${size}`);
    }
    for (const key of keys) {
      const value = object[key];
      if (!(this.ignoreUndefined && value === void 0)) {
        this.encodeString(key);
        this.doEncode(value, depth + 1);
      }
    }
  }
  encodeExtension(ext) {
    if (typeof ext.data === "function") {
      const data = ext.data(this.pos + 6);
      const size2 = data.length;
      if (size2 >= 4294967296) {
        throw new Error(`Too large extension object: ${size2}`);
      }
      this.writeU8(201);
      this.writeU32(size2);
      this.writeI8(ext.type);
      this.writeU8a(data);
      return;
    }
    const size = ext.data.length;
    if (size === 1) {
      this.writeU8(212);
    } else if (size === 2) {
      this.writeU8(213);
    } else if (size === 4) {
      this.writeU8(214);
    } else if (size === 8) {
      this.writeU8(215);
    } else if (size === 16) {
      this.writeU8(216);
    } else if (size < 256) {
      this.writeU8(199);
      this.writeU8(size);
    } else if (size < 65536) {
      this.writeU8(200);
      this.writeU16(size);
    } else if (size < 4294967296) {
      this.writeU8(201);
      this.writeU32(size);
    } else {
      throw new Error(`Too large extension object: ${size}`);
    }
    this.writeI8(ext.type);
    this.writeU8a(ext.data);
  }
  writeU8(value) {
    this.ensureBufferSizeToWrite(1);
    this.view.setUint8(this.pos, value);
    this.pos++;
  }
  writeU8a(values) {
    const size = values.length;
    this.ensureBufferSizeToWrite(size);
    this.bytes.set(values, this.pos);
    this.pos += size;
  }
  writeI8(value) {
    this.ensureBufferSizeToWrite(1);
    this.view.setInt8(this.pos, value);
    this.pos++;
  }
  writeU16(value) {
    this.ensureBufferSizeToWrite(2);
    this.view.setUint16(this.pos, value);
    this.pos += 2;
  }
  writeI16(value) {
    this.ensureBufferSizeToWrite(2);
    this.view.setInt16(this.pos, value);
    this.pos += 2;
  }
  writeU32(value) {
    this.ensureBufferSizeToWrite(4);
    this.view.setUint32(this.pos, value);
    this.pos += 4;
  }
  writeI32(value) {
    this.ensureBufferSizeToWrite(4);
    this.view.setInt32(this.pos, value);
    this.pos += 4;
  }
  writeF32(value) {
    this.ensureBufferSizeToWrite(4);
    this.view.setFloat32(this.pos, value);
    this.pos += 4;
  }
  writeF64(value) {
    this.ensureBufferSizeToWrite(8);
    this.view.setFloat64(this.pos, value);
    this.pos += 8;
  }
  writeU64(value) {
    this.ensureBufferSizeToWrite(8);
    setUint64(this.view, this.pos, value);
    this.pos += 8;
  }
  writeI64(value) {
    this.ensureBufferSizeToWrite(8);
    setInt64(this.view, this.pos, value);
    this.pos += 8;
  }
  writeBigUint64(value) {
    this.ensureBufferSizeToWrite(8);
    this.view.setBigUint64(this.pos, value);
    this.pos += 8;
  }
  writeBigInt64(value) {
    this.ensureBufferSizeToWrite(8);
    this.view.setBigInt64(this.pos, value);
    this.pos += 8;
  }
};

// web/client/node_modules/@msgpack/msgpack/dist.esm/utils/prettyByte.mjs
function prettyByte(byte) {
  return `${byte < 0 ? "-" : ""}0x${Math.abs(byte).toString(16).padStart(2, "0")}`;
}

// web/client/node_modules/@msgpack/msgpack/dist.esm/CachedKeyDecoder.mjs
var DEFAULT_MAX_KEY_LENGTH = 16;
var DEFAULT_MAX_LENGTH_PER_KEY = 16;
var CachedKeyDecoder = class {
  hit = 0;
  miss = 0;
  caches;
  maxKeyLength;
  maxLengthPerKey;
  constructor(maxKeyLength = DEFAULT_MAX_KEY_LENGTH, maxLengthPerKey = DEFAULT_MAX_LENGTH_PER_KEY) {
    this.maxKeyLength = maxKeyLength;
    this.maxLengthPerKey = maxLengthPerKey;
    this.caches = [];
    for (let i = 0; i < this.maxKeyLength; i++) {
      this.caches.push([]);
    }
  }
  canBeCached(byteLength) {
    return byteLength > 0 && byteLength <= this.maxKeyLength;
  }
  find(bytes, inputOffset, byteLength) {
    const records = this.caches[byteLength - 1];
    FIND_CHUNK: for (const record of records) {
      const recordBytes = record.bytes;
      for (let j = 0; j < byteLength; j++) {
        if (recordBytes[j] !== bytes[inputOffset + j]) {
          continue FIND_CHUNK;
        }
      }
      return record.str;
    }
    return null;
  }
  store(bytes, value) {
    const records = this.caches[bytes.length - 1];
    const record = { bytes, str: value };
    if (records.length >= this.maxLengthPerKey) {
      records[Math.random() * records.length | 0] = record;
    } else {
      records.push(record);
    }
  }
  decode(bytes, inputOffset, byteLength) {
    const cachedValue = this.find(bytes, inputOffset, byteLength);
    if (cachedValue != null) {
      this.hit++;
      return cachedValue;
    }
    this.miss++;
    const str = utf8DecodeJs(bytes, inputOffset, byteLength);
    const slicedCopyOfBytes = Uint8Array.prototype.slice.call(bytes, inputOffset, inputOffset + byteLength);
    this.store(slicedCopyOfBytes, str);
    return str;
  }
};

// web/client/node_modules/@msgpack/msgpack/dist.esm/Decoder.mjs
var STATE_ARRAY = "array";
var STATE_MAP_KEY = "map_key";
var STATE_MAP_VALUE = "map_value";
var mapKeyConverter = (key) => {
  if (typeof key === "string" || typeof key === "number") {
    return key;
  }
  throw new DecodeError("The type of key must be string or number but " + typeof key);
};
var StackPool = class {
  stack = [];
  stackHeadPosition = -1;
  get length() {
    return this.stackHeadPosition + 1;
  }
  top() {
    return this.stack[this.stackHeadPosition];
  }
  pushArrayState(size) {
    const state = this.getUninitializedStateFromPool();
    state.type = STATE_ARRAY;
    state.position = 0;
    state.size = size;
    state.array = new Array(size);
  }
  pushMapState(size) {
    const state = this.getUninitializedStateFromPool();
    state.type = STATE_MAP_KEY;
    state.readCount = 0;
    state.size = size;
    state.map = {};
  }
  getUninitializedStateFromPool() {
    this.stackHeadPosition++;
    if (this.stackHeadPosition === this.stack.length) {
      const partialState = {
        type: void 0,
        size: 0,
        array: void 0,
        position: 0,
        readCount: 0,
        map: void 0,
        key: null
      };
      this.stack.push(partialState);
    }
    return this.stack[this.stackHeadPosition];
  }
  release(state) {
    const topStackState = this.stack[this.stackHeadPosition];
    if (topStackState !== state) {
      throw new Error("Invalid stack state. Released state is not on top of the stack.");
    }
    if (state.type === STATE_ARRAY) {
      const partialState = state;
      partialState.size = 0;
      partialState.array = void 0;
      partialState.position = 0;
      partialState.type = void 0;
    }
    if (state.type === STATE_MAP_KEY || state.type === STATE_MAP_VALUE) {
      const partialState = state;
      partialState.size = 0;
      partialState.map = void 0;
      partialState.readCount = 0;
      partialState.type = void 0;
    }
    this.stackHeadPosition--;
  }
  reset() {
    this.stack.length = 0;
    this.stackHeadPosition = -1;
  }
};
var HEAD_BYTE_REQUIRED = -1;
var EMPTY_VIEW = new DataView(new ArrayBuffer(0));
var EMPTY_BYTES = new Uint8Array(EMPTY_VIEW.buffer);
try {
  EMPTY_VIEW.getInt8(0);
} catch (e) {
  if (!(e instanceof RangeError)) {
    throw new Error("This module is not supported in the current JavaScript engine because DataView does not throw RangeError on out-of-bounds access");
  }
}
var MORE_DATA = new RangeError("Insufficient data");
var sharedCachedKeyDecoder = new CachedKeyDecoder();
var Decoder = class _Decoder {
  extensionCodec;
  context;
  useBigInt64;
  rawStrings;
  maxStrLength;
  maxBinLength;
  maxArrayLength;
  maxMapLength;
  maxExtLength;
  keyDecoder;
  mapKeyConverter;
  totalPos = 0;
  pos = 0;
  view = EMPTY_VIEW;
  bytes = EMPTY_BYTES;
  headByte = HEAD_BYTE_REQUIRED;
  stack = new StackPool();
  entered = false;
  constructor(options) {
    this.extensionCodec = options?.extensionCodec ?? ExtensionCodec.defaultCodec;
    this.context = options?.context;
    this.useBigInt64 = options?.useBigInt64 ?? false;
    this.rawStrings = options?.rawStrings ?? false;
    this.maxStrLength = options?.maxStrLength ?? UINT32_MAX;
    this.maxBinLength = options?.maxBinLength ?? UINT32_MAX;
    this.maxArrayLength = options?.maxArrayLength ?? UINT32_MAX;
    this.maxMapLength = options?.maxMapLength ?? UINT32_MAX;
    this.maxExtLength = options?.maxExtLength ?? UINT32_MAX;
    this.keyDecoder = options?.keyDecoder !== void 0 ? options.keyDecoder : sharedCachedKeyDecoder;
    this.mapKeyConverter = options?.mapKeyConverter ?? mapKeyConverter;
  }
  clone() {
    return new _Decoder({
      extensionCodec: this.extensionCodec,
      context: this.context,
      useBigInt64: this.useBigInt64,
      rawStrings: this.rawStrings,
      maxStrLength: this.maxStrLength,
      maxBinLength: this.maxBinLength,
      maxArrayLength: this.maxArrayLength,
      maxMapLength: this.maxMapLength,
      maxExtLength: this.maxExtLength,
      keyDecoder: this.keyDecoder
    });
  }
  reinitializeState() {
    this.totalPos = 0;
    this.headByte = HEAD_BYTE_REQUIRED;
    this.stack.reset();
  }
  setBuffer(buffer) {
    const bytes = ensureUint8Array(buffer);
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }
  appendBuffer(buffer) {
    if (this.headByte === HEAD_BYTE_REQUIRED && !this.hasRemaining(1)) {
      this.setBuffer(buffer);
    } else {
      const remainingData = this.bytes.subarray(this.pos);
      const newData = ensureUint8Array(buffer);
      const newBuffer = new Uint8Array(remainingData.length + newData.length);
      newBuffer.set(remainingData);
      newBuffer.set(newData, remainingData.length);
      this.setBuffer(newBuffer);
    }
  }
  hasRemaining(size) {
    return this.view.byteLength - this.pos >= size;
  }
  createExtraByteError(posToShow) {
    const { view, pos } = this;
    return new RangeError(`Extra ${view.byteLength - pos} of ${view.byteLength} byte(s) found at buffer[${posToShow}]`);
  }
  /**
   * @throws {@link DecodeError}
   * @throws {@link RangeError}
   */
  decode(buffer) {
    if (this.entered) {
      const instance = this.clone();
      return instance.decode(buffer);
    }
    try {
      this.entered = true;
      this.reinitializeState();
      this.setBuffer(buffer);
      const object = this.doDecodeSync();
      if (this.hasRemaining(1)) {
        throw this.createExtraByteError(this.pos);
      }
      return object;
    } finally {
      this.entered = false;
    }
  }
  *decodeMulti(buffer) {
    if (this.entered) {
      const instance = this.clone();
      yield* instance.decodeMulti(buffer);
      return;
    }
    try {
      this.entered = true;
      this.reinitializeState();
      this.setBuffer(buffer);
      while (this.hasRemaining(1)) {
        yield this.doDecodeSync();
      }
    } finally {
      this.entered = false;
    }
  }
  async decodeAsync(stream) {
    if (this.entered) {
      const instance = this.clone();
      return instance.decodeAsync(stream);
    }
    try {
      this.entered = true;
      let decoded = false;
      let object;
      for await (const buffer of stream) {
        if (decoded) {
          this.entered = false;
          throw this.createExtraByteError(this.totalPos);
        }
        this.appendBuffer(buffer);
        try {
          object = this.doDecodeSync();
          decoded = true;
        } catch (e) {
          if (!(e instanceof RangeError)) {
            throw e;
          }
        }
        this.totalPos += this.pos;
      }
      if (decoded) {
        if (this.hasRemaining(1)) {
          throw this.createExtraByteError(this.totalPos);
        }
        return object;
      }
      const { headByte, pos, totalPos } = this;
      throw new RangeError(`Insufficient data in parsing ${prettyByte(headByte)} at ${totalPos} (${pos} in the current buffer)`);
    } finally {
      this.entered = false;
    }
  }
  decodeArrayStream(stream) {
    return this.decodeMultiAsync(stream, true);
  }
  decodeStream(stream) {
    return this.decodeMultiAsync(stream, false);
  }
  async *decodeMultiAsync(stream, isArray) {
    if (this.entered) {
      const instance = this.clone();
      yield* instance.decodeMultiAsync(stream, isArray);
      return;
    }
    try {
      this.entered = true;
      let isArrayHeaderRequired = isArray;
      let arrayItemsLeft = -1;
      for await (const buffer of stream) {
        if (isArray && arrayItemsLeft === 0) {
          throw this.createExtraByteError(this.totalPos);
        }
        this.appendBuffer(buffer);
        if (isArrayHeaderRequired) {
          arrayItemsLeft = this.readArraySize();
          isArrayHeaderRequired = false;
          this.complete();
        }
        try {
          while (true) {
            yield this.doDecodeSync();
            if (--arrayItemsLeft === 0) {
              break;
            }
          }
        } catch (e) {
          if (!(e instanceof RangeError)) {
            throw e;
          }
        }
        this.totalPos += this.pos;
      }
    } finally {
      this.entered = false;
    }
  }
  doDecodeSync() {
    DECODE: while (true) {
      const headByte = this.readHeadByte();
      let object;
      if (headByte >= 224) {
        object = headByte - 256;
      } else if (headByte < 192) {
        if (headByte < 128) {
          object = headByte;
        } else if (headByte < 144) {
          const size = headByte - 128;
          if (size !== 0) {
            this.pushMapState(size);
            this.complete();
            continue DECODE;
          } else {
            object = {};
          }
        } else if (headByte < 160) {
          const size = headByte - 144;
          if (size !== 0) {
            this.pushArrayState(size);
            this.complete();
            continue DECODE;
          } else {
            object = [];
          }
        } else {
          const byteLength = headByte - 160;
          object = this.decodeString(byteLength, 0);
        }
      } else if (headByte === 192) {
        object = null;
      } else if (headByte === 194) {
        object = false;
      } else if (headByte === 195) {
        object = true;
      } else if (headByte === 202) {
        object = this.readF32();
      } else if (headByte === 203) {
        object = this.readF64();
      } else if (headByte === 204) {
        object = this.readU8();
      } else if (headByte === 205) {
        object = this.readU16();
      } else if (headByte === 206) {
        object = this.readU32();
      } else if (headByte === 207) {
        if (this.useBigInt64) {
          object = this.readU64AsBigInt();
        } else {
          object = this.readU64();
        }
      } else if (headByte === 208) {
        object = this.readI8();
      } else if (headByte === 209) {
        object = this.readI16();
      } else if (headByte === 210) {
        object = this.readI32();
      } else if (headByte === 211) {
        if (this.useBigInt64) {
          object = this.readI64AsBigInt();
        } else {
          object = this.readI64();
        }
      } else if (headByte === 217) {
        const byteLength = this.lookU8();
        object = this.decodeString(byteLength, 1);
      } else if (headByte === 218) {
        const byteLength = this.lookU16();
        object = this.decodeString(byteLength, 2);
      } else if (headByte === 219) {
        const byteLength = this.lookU32();
        object = this.decodeString(byteLength, 4);
      } else if (headByte === 220) {
        const size = this.readU16();
        if (size !== 0) {
          this.pushArrayState(size);
          this.complete();
          continue DECODE;
        } else {
          object = [];
        }
      } else if (headByte === 221) {
        const size = this.readU32();
        if (size !== 0) {
          this.pushArrayState(size);
          this.complete();
          continue DECODE;
        } else {
          object = [];
        }
      } else if (headByte === 222) {
        const size = this.readU16();
        if (size !== 0) {
          this.pushMapState(size);
          this.complete();
          continue DECODE;
        } else {
          object = {};
        }
      } else if (headByte === 223) {
        const size = this.readU32();
        if (size !== 0) {
          this.pushMapState(size);
          this.complete();
          continue DECODE;
        } else {
          object = {};
        }
      } else if (headByte === 196) {
        const size = this.lookU8();
        object = this.decodeBinary(size, 1);
      } else if (headByte === 197) {
        const size = this.lookU16();
        object = this.decodeBinary(size, 2);
      } else if (headByte === 198) {
        const size = this.lookU32();
        object = this.decodeBinary(size, 4);
      } else if (headByte === 212) {
        object = this.decodeExtension(1, 0);
      } else if (headByte === 213) {
        object = this.decodeExtension(2, 0);
      } else if (headByte === 214) {
        object = this.decodeExtension(4, 0);
      } else if (headByte === 215) {
        object = this.decodeExtension(8, 0);
      } else if (headByte === 216) {
        object = this.decodeExtension(16, 0);
      } else if (headByte === 199) {
        const size = this.lookU8();
        object = this.decodeExtension(size, 1);
      } else if (headByte === 200) {
        const size = this.lookU16();
        object = this.decodeExtension(size, 2);
      } else if (headByte === 201) {
        const size = this.lookU32();
        object = this.decodeExtension(size, 4);
      } else {
        throw new DecodeError(`Unrecognized type byte: ${prettyByte(headByte)}`);
      }
      this.complete();
      const stack = this.stack;
      while (stack.length > 0) {
        const state = stack.top();
        if (state.type === STATE_ARRAY) {
          state.array[state.position] = object;
          state.position++;
          if (state.position === state.size) {
            object = state.array;
            stack.release(state);
          } else {
            continue DECODE;
          }
        } else if (state.type === STATE_MAP_KEY) {
          if (object === "__proto__") {
            throw new DecodeError("The key __proto__ is not allowed");
          }
          state.key = this.mapKeyConverter(object);
          state.type = STATE_MAP_VALUE;
          continue DECODE;
        } else {
          state.map[state.key] = object;
          state.readCount++;
          if (state.readCount === state.size) {
            object = state.map;
            stack.release(state);
          } else {
            state.key = null;
            state.type = STATE_MAP_KEY;
            continue DECODE;
          }
        }
      }
      return object;
    }
  }
  readHeadByte() {
    if (this.headByte === HEAD_BYTE_REQUIRED) {
      this.headByte = this.readU8();
    }
    return this.headByte;
  }
  complete() {
    this.headByte = HEAD_BYTE_REQUIRED;
  }
  readArraySize() {
    const headByte = this.readHeadByte();
    switch (headByte) {
      case 220:
        return this.readU16();
      case 221:
        return this.readU32();
      default: {
        if (headByte < 160) {
          return headByte - 144;
        } else {
          throw new DecodeError(`Unrecognized array type byte: ${prettyByte(headByte)}`);
        }
      }
    }
  }
  pushMapState(size) {
    if (size > this.maxMapLength) {
      throw new DecodeError(`Max length exceeded: map length (${size}) > maxMapLengthLength (${this.maxMapLength})`);
    }
    this.stack.pushMapState(size);
  }
  pushArrayState(size) {
    if (size > this.maxArrayLength) {
      throw new DecodeError(`Max length exceeded: array length (${size}) > maxArrayLength (${this.maxArrayLength})`);
    }
    this.stack.pushArrayState(size);
  }
  decodeString(byteLength, headerOffset) {
    if (!this.rawStrings || this.stateIsMapKey()) {
      return this.decodeUtf8String(byteLength, headerOffset);
    }
    return this.decodeBinary(byteLength, headerOffset);
  }
  /**
   * @throws {@link RangeError}
   */
  decodeUtf8String(byteLength, headerOffset) {
    if (byteLength > this.maxStrLength) {
      throw new DecodeError(`Max length exceeded: UTF-8 byte length (${byteLength}) > maxStrLength (${this.maxStrLength})`);
    }
    if (this.bytes.byteLength < this.pos + headerOffset + byteLength) {
      throw MORE_DATA;
    }
    const offset = this.pos + headerOffset;
    let object;
    if (this.stateIsMapKey() && this.keyDecoder?.canBeCached(byteLength)) {
      object = this.keyDecoder.decode(this.bytes, offset, byteLength);
    } else {
      object = utf8Decode(this.bytes, offset, byteLength);
    }
    this.pos += headerOffset + byteLength;
    return object;
  }
  stateIsMapKey() {
    if (this.stack.length > 0) {
      const state = this.stack.top();
      return state.type === STATE_MAP_KEY;
    }
    return false;
  }
  /**
   * @throws {@link RangeError}
   */
  decodeBinary(byteLength, headOffset) {
    if (byteLength > this.maxBinLength) {
      throw new DecodeError(`Max length exceeded: bin length (${byteLength}) > maxBinLength (${this.maxBinLength})`);
    }
    if (!this.hasRemaining(byteLength + headOffset)) {
      throw MORE_DATA;
    }
    const offset = this.pos + headOffset;
    const object = this.bytes.subarray(offset, offset + byteLength);
    this.pos += headOffset + byteLength;
    return object;
  }
  decodeExtension(size, headOffset) {
    if (size > this.maxExtLength) {
      throw new DecodeError(`Max length exceeded: ext length (${size}) > maxExtLength (${this.maxExtLength})`);
    }
    const extType = this.view.getInt8(this.pos + headOffset);
    const data = this.decodeBinary(
      size,
      headOffset + 1
      /* extType */
    );
    return this.extensionCodec.decode(data, extType, this.context);
  }
  lookU8() {
    return this.view.getUint8(this.pos);
  }
  lookU16() {
    return this.view.getUint16(this.pos);
  }
  lookU32() {
    return this.view.getUint32(this.pos);
  }
  readU8() {
    const value = this.view.getUint8(this.pos);
    this.pos++;
    return value;
  }
  readI8() {
    const value = this.view.getInt8(this.pos);
    this.pos++;
    return value;
  }
  readU16() {
    const value = this.view.getUint16(this.pos);
    this.pos += 2;
    return value;
  }
  readI16() {
    const value = this.view.getInt16(this.pos);
    this.pos += 2;
    return value;
  }
  readU32() {
    const value = this.view.getUint32(this.pos);
    this.pos += 4;
    return value;
  }
  readI32() {
    const value = this.view.getInt32(this.pos);
    this.pos += 4;
    return value;
  }
  readU64() {
    const value = getUint64(this.view, this.pos);
    this.pos += 8;
    return value;
  }
  readI64() {
    const value = getInt64(this.view, this.pos);
    this.pos += 8;
    return value;
  }
  readU64AsBigInt() {
    const value = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return value;
  }
  readI64AsBigInt() {
    const value = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return value;
  }
  readF32() {
    const value = this.view.getFloat32(this.pos);
    this.pos += 4;
    return value;
  }
  readF64() {
    const value = this.view.getFloat64(this.pos);
    this.pos += 8;
    return value;
  }
};

// web/client/src/schema.js
var PROTOCOL_VERSION = 1;
var CLIENT_FRAMES = { "hello": [["v", "int", true, null], ["token", ["bound", "str", { "max_length": 8192 }], true, null], ["device", ["bound", "str", { "max_length": 128 }], false, ""], ["client", ["bound", "str", { "max_length": 128 }], false, ""]], "ping": [["ts", "int", false, 0]], "send": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["cmid", ["bound", "str", { "min_length": 1, "max_length": 64 }], true, null], ["body", "map", true, null], ["kind", ["bound", "str", { "values": ["custom", "rich", "text"] }], false, "text"], ["mentions", ["bound", ["list", ["bound", "str", { "min_length": 1, "max_length": 128, "pattern": "^[A-Za-z0-9._@:+=~|-]{1,128}(?!\\n)$" }]], { "max_length": 1e3 }], false, []]], "edit": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["seq", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["body", "map", true, null]], "recall": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["seq", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null]], "typing": [["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["on", "bool", false, true]], "draft": [["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["draft", ["bound", "str", { "min_length": 1, "max_length": 64 }], true, null], ["body", "map", true, null], ["done", "bool", false, false]], "read": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["seq", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null]], "sync": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["positions", ["bound", ["list", ["rec", "Position"]], { "max_length": 1e4 }], false, []], ["limit", ["bound", "int", { "ge": 1, "le": 500 }], false, 200], ["after", ["bound", "str", { "max_length": 128 }], false, ""]], "history": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["before", ["opt", ["bound", "int", { "ge": 0, "le": 9007199254740992 }]], false, null], ["after", ["opt", ["bound", "int", { "ge": 0, "le": 9007199254740992 }]], false, null], ["limit", ["bound", "int", { "ge": 1, "le": 500 }], false, 50]], "conv_create": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["kind", ["bound", "str", { "values": ["direct", "group", "support"] }], true, null], ["members", ["bound", ["list", ["bound", "str", { "min_length": 1, "max_length": 128, "pattern": "^[A-Za-z0-9._@:+=~|-]{1,128}(?!\\n)$" }]], { "max_length": 1e3 }], false, []], ["name", ["bound", "str", { "max_length": 200 }], false, ""], ["meta", "map", false, {}]], "conv_get": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null]], "conv_list": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["after", ["bound", "str", { "max_length": 128 }], false, ""], ["limit", ["bound", "int", { "ge": 1, "le": 500 }], false, 100]], "conv_update": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["name", ["opt", ["bound", "str", { "max_length": 200 }]], false, null], ["meta", ["opt", "map"], false, null]], "member_add": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["users", ["bound", ["list", ["bound", "str", { "min_length": 1, "max_length": 128, "pattern": "^[A-Za-z0-9._@:+=~|-]{1,128}(?!\\n)$" }]], { "max_length": 1e3 }], true, null], ["role", ["bound", "str", { "values": ["admin", "member", "owner"] }], false, "member"]], "member_remove": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["users", ["bound", ["list", ["bound", "str", { "min_length": 1, "max_length": 128, "pattern": "^[A-Za-z0-9._@:+=~|-]{1,128}(?!\\n)$" }]], { "max_length": 1e3 }], true, null]], "member_role": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["user", ["bound", "str", { "min_length": 1, "max_length": 128, "pattern": "^[A-Za-z0-9._@:+=~|-]{1,128}(?!\\n)$" }], true, null], ["role", ["bound", "str", { "values": ["admin", "member", "owner"] }], true, null]], "leave": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null]], "member_list": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["after", ["bound", "str", { "max_length": 128 }], false, ""], ["limit", ["bound", "int", { "ge": 1, "le": 500 }], false, 200]], "presence_sub": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["users", ["bound", ["list", ["bound", "str", { "min_length": 1, "max_length": 128, "pattern": "^[A-Za-z0-9._@:+=~|-]{1,128}(?!\\n)$" }]], { "max_length": 1e3 }], true, null]], "presence_unsub": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["users", ["bound", ["list", ["bound", "str", { "min_length": 1, "max_length": 128, "pattern": "^[A-Za-z0-9._@:+=~|-]{1,128}(?!\\n)$" }]], { "max_length": 1e3 }], true, null]], "support_handoff": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["reason", ["bound", "str", { "max_length": 200 }], false, ""], ["summary", ["bound", "str", { "max_length": 4e3 }], false, ""]], "support_claim": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null]], "support_transfer": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["agent", ["bound", "str", { "min_length": 1, "max_length": 128, "pattern": "^[A-Za-z0-9._@:+=~|-]{1,128}(?!\\n)$" }], true, null]], "support_release": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null]], "support_resolve": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null]], "support_rate": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["score", ["bound", "int", { "ge": 1, "le": 5 }], true, null]], "support_queue": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null]], "support_note": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["text", ["bound", "str", { "min_length": 1, "max_length": 16e3 }], true, null]], "profile_get": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["user", ["bound", "str", { "min_length": 1, "max_length": 128, "pattern": "^[A-Za-z0-9._@:+=~|-]{1,128}(?!\\n)$" }], true, null]], "profile_tag": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["user", ["bound", "str", { "min_length": 1, "max_length": 128, "pattern": "^[A-Za-z0-9._@:+=~|-]{1,128}(?!\\n)$" }], true, null], ["add", ["bound", ["list", ["rec", "TagInput"]], { "max_length": 100 }], false, []], ["remove", ["bound", ["list", ["bound", "str", { "min_length": 1, "max_length": 100 }]], { "max_length": 100 }], false, []], ["source", ["bound", "str", { "max_length": 20 }], false, ""], ["attributes", "map", false, {}]], "block": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["user", ["bound", "str", { "min_length": 1, "max_length": 128, "pattern": "^[A-Za-z0-9._@:+=~|-]{1,128}(?!\\n)$" }], true, null]], "unblock": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["user", ["bound", "str", { "min_length": 1, "max_length": 128, "pattern": "^[A-Za-z0-9._@:+=~|-]{1,128}(?!\\n)$" }], true, null]], "block_list": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null]], "report": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["seq", ["bound", "int", { "ge": 1, "le": 9007199254740992 }], true, null], ["reason", ["bound", "str", { "max_length": 500 }], false, ""]], "invite_list": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["after", ["bound", "str", { "max_length": 128 }], false, ""], ["limit", ["bound", "int", { "ge": 1, "le": 500 }], false, 100]], "invite_accept": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null]], "invite_decline": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null]], "track": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["event", ["bound", "str", { "min_length": 1, "max_length": 64 }], true, null], ["props", "map", false, {}], ["ts", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], false, 0], ["eid", ["bound", "str", { "max_length": 64 }], false, ""]], "identify": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["identifiers", ["bound", ["list", ["rec", "IdentifierInput"]], { "max_length": 15 }], false, []]], "profile_set": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["attributes", ["bound", "map", { "max_length": 100 }], false, {}], ["timezone", ["opt", ["bound", "str", { "max_length": 64 }]], false, null], ["language", ["opt", ["bound", "str", { "max_length": 35 }]], false, null]], "consent": [["id", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["topic", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["granted", "bool", true, null]] };
var SERVER_FRAMES = { "welcome": [["v", "int", true, null], ["session", "str", true, null], ["app", "str", true, null], ["user", "str", true, null], ["node", "str", true, null], ["ts", "int", true, null], ["heartbeat_ms", "int", true, null], ["max_frame", "int", true, null]], "pong": [["ts", "int", false, 0]], "ack": [["id", "int", true, null], ["conv", "str", true, null], ["cmid", "str", true, null], ["mid", "str", true, null], ["seq", "int", true, null], ["ts", "int", true, null], ["dup", "bool", false, false], ["body", ["opt", "map"], false, null]], "msg": [["m", ["rec", "Message"], true, null]], "receipt": [["conv", "str", true, null], ["user", "str", true, null], ["seq", "int", true, null]], "typing_event": [["conv", "str", true, null], ["user", "str", true, null], ["on", "bool", false, true]], "draft_event": [["conv", "str", true, null], ["user", "str", true, null], ["draft", "str", true, null], ["body", "map", true, null], ["done", "bool", false, false]], "presence": [["user", "str", true, null], ["online", "bool", true, null], ["last_seen", "int", false, 0]], "conv_event": [["event", "str", true, null], ["conv", ["rec", "ConvInfo"], true, null]], "ok": [["id", "int", true, null]], "conv": [["id", "int", true, null], ["conv", ["rec", "ConvInfo"], true, null]], "convs": [["id", "int", true, null], ["convs", ["list", ["rec", "ConvSummary"]], true, null], ["more", "bool", false, false]], "page": [["id", "int", true, null], ["conv", "str", true, null], ["messages", ["list", ["rec", "Message"]], true, null], ["more", "bool", false, false]], "members": [["id", "int", true, null], ["conv", "str", true, null], ["members", ["list", ["rec", "MemberInfo"]], true, null], ["more", "bool", false, false]], "synced": [["id", "int", true, null], ["convs", ["list", ["rec", "SyncState"]], true, null], ["next", "str", false, ""]], "support_list": [["id", "int", true, null], ["waiting", ["list", ["rec", "ConvInfo"]], true, null], ["mine", ["list", ["rec", "ConvInfo"]], false, []]], "support_queue_event": [["conv", "str", true, null], ["state", "str", true, null]], "profile": [["id", "int", true, null], ["profile", ["rec", "ProfileInfo"], true, null]], "error": [["code", "str", true, null], ["message", "str", true, null], ["action", "str", true, null], ["id", ["opt", "int"], false, null]], "resync": [["convs", ["list", "str"], false, []]], "bye": [["reason", "str", true, null], ["reconnect_ms", "int", false, 0]], "blocks": [["id", "int", true, null], ["users", ["bound", ["list", ["rec", "BlockInfo"]], { "max_length": 1e5 }], false, []]], "invitations": [["id", "int", true, null], ["invitations", ["bound", ["list", ["rec", "InvitationInfo"]], { "max_length": 500 }], false, []], ["more", "bool", false, false]], "invited": [["invitation", ["rec", "InvitationInfo"], true, null]], "tracked": [["id", "int", true, null], ["eid", "str", true, null], ["dup", "bool", false, false]], "identified": [["id", "int", true, null], ["pid", "str", true, null], ["merged", "int", false, 0]] };
var RECORDS = { "BlockInfo": [["user", "str", true, null], ["since", "int", false, 0]], "ConvInfo": [["conv", "str", true, null], ["kind", "str", true, null], ["name", "str", false, ""], ["meta", "map", false, {}], ["epoch", "str", false, ""], ["last_seq", "int", false, 0], ["created", "int", false, 0], ["members", ["list", ["rec", "MemberInfo"]], false, []], ["member_count", "int", false, 0]], "ConvSummary": [["conv", "str", true, null], ["kind", "str", true, null], ["name", "str", false, ""], ["last_seq", "int", false, 0], ["read", "int", false, 0], ["unread", "int", false, 0], ["last", ["opt", ["rec", "Message"]], false, null]], "IdentifierInput": [["kind", ["bound", "str", { "min_length": 1, "max_length": 16 }], true, null], ["value", ["bound", "str", { "min_length": 1, "max_length": 256 }], true, null]], "InvitationInfo": [["conv", "str", true, null], ["inviter", "str", true, null], ["name", "str", false, ""], ["role", "str", false, "member"], ["created", "int", false, 0], ["expires", "int", false, 0]], "MemberInfo": [["user", "str", true, null], ["role", "str", true, null], ["read", "int", false, 0]], "Message": [["conv", "str", true, null], ["seq", "int", true, null], ["mid", "str", true, null], ["sender", "str", true, null], ["kind", "str", true, null], ["body", "map", true, null], ["ts", "int", true, null], ["cmid", "str", false, ""], ["mentions", ["list", "str"], false, []], ["edited", "int", false, 0], ["recalled", "bool", false, false]], "Position": [["conv", ["bound", "str", { "min_length": 1, "max_length": 128 }], true, null], ["seq", ["bound", "int", { "ge": 0, "le": 9007199254740992 }], true, null], ["epoch", "str", false, ""]], "ProfileInfo": [["user", "str", true, null], ["tags", ["list", ["rec", "Tag"]], false, []], ["attributes", "map", false, {}], ["counters", "map", false, {}]], "SyncState": [["conv", "str", true, null], ["last_seq", "int", true, null], ["epoch", "str", true, null], ["more", "bool", false, false], ["reset", "bool", false, false]], "Tag": [["name", "str", true, null], ["source", "str", true, null], ["confidence", "float", false, 1], ["evidence", "str", false, ""], ["ts", "int", false, 0], ["expires", "int", false, 0]], "TagInput": [["name", ["bound", "str", { "min_length": 1, "max_length": 100 }], true, null], ["confidence", ["bound", "float", { "ge": 0, "le": 1 }], false, 1], ["ttl", ["bound", "int", { "ge": 0 }], false, 0], ["evidence", ["bound", "str", { "max_length": 128 }], false, ""]] };
var ERROR_ACTIONS = { "token_expired": "reconnect", "rate_limited": "retry", "unavailable": "retry", "internal": "retry", "token_revoked": "reconnect" };
var NO_RECONNECT = [1e3, 4001, 4002, 4010, 4029];
var REFRESH_TOKEN = [4004, 4011];

// web/client/src/codec.js
var DEFAULT_MAX_FRAME = 16 * 1024 * 1024;
var MAX_DEPTH = 32;
var INT64_MIN = -(2n ** 63n);
var INT64_MAX = 2n ** 63n - 1n;
var UINT32_MAX2 = 4294967295;
var INT32_MIN = -2147483648;
var FrameError = class extends Error {
  /**
   * @param {"bad_frame" | "unknown_frame" | "invalid_frame" | "frame_too_large"} code
   * @param {string} message
   * @param {number | null} [requestId] the frame's `id` when it was a readable map
   */
  constructor(code, message, requestId = null) {
    super(`${code}: ${message}`);
    this.name = "FrameError";
    this.code = code;
    this.requestId = requestId;
  }
};
var encoder = new Encoder({ useBigInt64: true });
function encodeFrame(frame) {
  const table = CLIENT_FRAMES[frame.t] ?? SERVER_FRAMES[frame.t];
  if (!table) throw new FrameError("invalid_frame", `unknown frame type ${JSON.stringify(frame.t)}`);
  const known = /* @__PURE__ */ new Set(["t", ...table.map(([name]) => name)]);
  for (const key of Object.keys(frame)) {
    if (!known.has(key) && frame[key] !== void 0) throw new FrameError("invalid_frame", `${frame.t}: unknown field ${key}`);
  }
  const defined = Object.fromEntries(Object.entries(frame).filter(([, v]) => v !== void 0));
  return encoder.encode({ t: frame.t, ...wireRecord(check(defined, table, frame.t), table) });
}
function wireRecord(value, table) {
  const out = {};
  for (const [name, type, required, dflt] of table) {
    if (required || !equal(value[name], dflt)) out[name] = wireValue(value[name], type);
  }
  return out;
}
function wireValue(v, type) {
  if (!Array.isArray(type)) return widen(v);
  const [kind, inner] = type;
  if (kind === "bound") return wireValue(v, inner);
  if (kind === "opt") return v === null ? null : wireValue(v, inner);
  if (kind === "list") return v.map((x) => wireValue(x, inner));
  return wireRecord(v, RECORDS[inner]);
}
function widen(v) {
  if (typeof v === "number") {
    return Number.isInteger(v) && (v > UINT32_MAX2 || v < INT32_MIN) ? BigInt(v) : v;
  }
  if (Array.isArray(v)) return v.map(widen);
  if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = widen(x);
    return out;
  }
  return v;
}
function equal(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
}
var strictUtf8 = new TextDecoder("utf-8", { fatal: true });
var decoder = new Decoder({
  useBigInt64: true,
  keyDecoder: null,
  mapKeyConverter: (key) => {
    if (typeof key !== "string") throw new FrameError("invalid_frame", "map keys must be strings");
    return key;
  }
});
decoder.decodeUtf8String = function decodeUtf8String(byteLength, headerOffset) {
  const start = this.pos + headerOffset;
  if (this.bytes.byteLength < start + byteLength) throw new RangeError("Insufficient data");
  let text;
  try {
    text = strictUtf8.decode(this.bytes.subarray(start, start + byteLength));
  } catch {
    throw new FrameError("bad_frame", "malformed MessagePack: invalid UTF-8 string");
  }
  this.pos += headerOffset + byteLength;
  return text;
};
function decodeFrame(data, maxFrame = DEFAULT_MAX_FRAME) {
  return (
    /** @type {any} */
    decodeWith(data, SERVER_FRAMES, maxFrame)
  );
}
function decodeClientFrame(data, maxFrame = 64 * 1024) {
  return (
    /** @type {any} */
    decodeWith(data, CLIENT_FRAMES, maxFrame)
  );
}
function decodeWith(data, frames, maxFrame) {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.byteLength > maxFrame) {
    throw new FrameError("frame_too_large", `frame of ${bytes.byteLength} bytes exceeds the limit of ${maxFrame}`);
  }
  let raw;
  try {
    raw = decoder.decode(bytes);
  } catch (exc) {
    if (exc instanceof FrameError) throw exc;
    throw new FrameError("bad_frame", `malformed MessagePack: ${/** @type {Error} */
    exc.message}`);
  }
  if (!isMap(raw)) throw new FrameError("bad_frame", "a frame must be a MessagePack map");
  const t = raw.t;
  const table = typeof t === "string" && Object.hasOwn(frames, t) ? frames[t] : void 0;
  if (!table) throw new FrameError("unknown_frame", `unknown or missing frame type ${JSON.stringify(String(t))}`);
  try {
    return { t, ...check(raw, table, "$") };
  } catch (exc) {
    if (!(exc instanceof FrameError)) throw exc;
    const id = raw.id;
    exc.requestId = Number.isSafeInteger(id) && id >= 0 ? id : null;
    throw exc;
  }
}
function isMap(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof ExtData) && !(v instanceof Date);
}
function check(raw, table, where) {
  const out = {};
  for (const [name, type, required, dflt] of table) {
    if (!Object.hasOwn(raw, name)) {
      if (required) throw new FrameError("invalid_frame", `missing required field ${name} at ${where}`);
      out[name] = structuredClone(dflt);
      continue;
    }
    out[name] = checkValue(raw[name], type, `${where}.${name}`);
  }
  return out;
}
function checkValue(v, type, where) {
  const bad = () => new FrameError("invalid_frame", `expected ${JSON.stringify(type)} at ${where}`);
  if (Array.isArray(type)) {
    const [kind, inner] = type;
    if (kind === "bound") return bounded(checkValue(v, inner, where), type[2], where);
    if (kind === "opt") return v === null ? null : checkValue(v, inner, where);
    if (kind === "list") {
      if (!Array.isArray(v)) throw bad();
      return v.map((x, i) => checkValue(x, inner, `${where}[${i}]`));
    }
    if (!isMap(v)) throw bad();
    return check(v, RECORDS[inner], where);
  }
  switch (type) {
    case "str":
      if (typeof v !== "string") throw bad();
      return v;
    case "bool":
      if (typeof v !== "boolean") throw bad();
      return v;
    case "int":
      if (typeof v === "bigint") return narrow(v, where);
      if (!Number.isInteger(v)) throw bad();
      return v;
    case "float":
      if (typeof v !== "number") throw bad();
      return v;
    case "map":
      if (!isMap(v)) throw bad();
      return plain(v, where, 1);
    default:
      return plain(v, where, 1);
  }
}
function bounded(v, bounds, where) {
  const size = typeof v === "string" ? [...v].length : Array.isArray(v) ? v.length : null;
  const why = bounds.values && !bounds.values.includes(v) && `must be one of ${bounds.values.join(", ")}` || bounds.ge !== void 0 && v < bounds.ge && `must be >= ${bounds.ge}` || bounds.le !== void 0 && v > bounds.le && `must be <= ${bounds.le}` || bounds.gt !== void 0 && v <= bounds.gt && `must be > ${bounds.gt}` || bounds.lt !== void 0 && v >= bounds.lt && `must be < ${bounds.lt}` || size !== null && bounds.min_length !== void 0 && size < bounds.min_length && `must have length >= ${bounds.min_length}` || size !== null && bounds.max_length !== void 0 && size > bounds.max_length && `must have length <= ${bounds.max_length}` || bounds.pattern && !new RegExp(bounds.pattern).test(v) && `must match ${bounds.pattern}`;
  if (why) throw new FrameError("invalid_frame", `${where} ${why}`);
  return v;
}
function narrow(v, where) {
  if (v < INT64_MIN || v > INT64_MAX) throw new FrameError("invalid_frame", `integer out of 64-bit range at ${where}`);
  return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v;
}
function plain(v, where, depth) {
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  if (typeof v === "bigint") return narrow(v, where);
  if (depth > MAX_DEPTH) throw new FrameError("invalid_frame", `value nested deeper than ${MAX_DEPTH} at ${where}`);
  if (Array.isArray(v)) return v.map((x, i) => plain(x, `${where}[${i}]`, depth + 1));
  if (isMap(v)) {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = plain(x, `${where}.${k}`, depth + 1);
    return out;
  }
  throw new FrameError("invalid_frame", `binary or extension value at ${where} (plain data only)`);
}

// web/client/src/backoff.js
var Backoff = class {
  /**
   * @param {{minDelay?: number, maxDelay?: number, factor?: number}} [options] seconds
   */
  constructor({ minDelay = 0.2, maxDelay = 20, factor = 2 } = {}) {
    if (!(0 < minDelay && minDelay <= maxDelay) || !(factor >= 1)) {
      throw new RangeError("need 0 < minDelay <= maxDelay and factor >= 1");
    }
    this.minDelay = minDelay;
    this.maxDelay = maxDelay;
    this.factor = factor;
  }
  /**
   * Upper bound of the delay before retry number `attempt` (0-based), in seconds.
   * @param {number} attempt
   * @returns {number}
   */
  cap(attempt) {
    const n = Math.min(Math.max(0, attempt), 64);
    const raw = this.minDelay * this.factor ** n;
    return Number.isFinite(raw) ? Math.min(this.maxDelay, raw) : this.maxDelay;
  }
  /**
   * A jittered delay for retry number `attempt`, in seconds.
   * @param {number} attempt
   * @param {() => number} [random] uniform in [0, 1); `Math.random` by default
   * @returns {number}
   */
  delay(attempt, random = Math.random) {
    return Math.max(this.minDelay, random() * this.cap(attempt));
  }
};

// web/client/src/catchup.js
var MAX_SYNC_ROUNDS = 1e3;
var MAX_FRUITLESS = 3;
async function catchUp(streams, convs, hooks) {
  const fruitless = /* @__PURE__ */ new Map();
  for (let round = 0; round < MAX_SYNC_ROUNDS; round++) {
    const positions = streams.positions(convs ?? void 0);
    if (convs !== null && !positions.length) return;
    const before = new Map(positions.map((p) => [p.conv, p.seq]));
    const again = /* @__PURE__ */ new Set();
    let after = "";
    for (; ; ) {
      const synced = await hooks.sync(positions.filter((p) => p.conv > after), after);
      const outcome = streams.onSynced(synced, before.keys());
      for (const state of outcome.resets) hooks.reset(state);
      hooks.deliver(outcome.deliver);
      for (const conv of outcome.again) again.add(conv);
      if (!synced.next || synced.next <= after) break;
      after = synced.next;
    }
    streams.baseline = true;
    for (const conv of [...again]) {
      if (before.has(conv) && streams.position(conv) === before.get(conv)) {
        const n = (fruitless.get(conv) ?? 0) + 1;
        fruitless.set(conv, n);
        if (n >= MAX_FRUITLESS) {
          hooks.deliver(streams.skipGap(conv));
          again.delete(conv);
        }
      }
    }
    if (!again.size) return;
    convs = again;
  }
}

// web/client/src/errors.js
function actionFor(code) {
  const action = Object.hasOwn(ERROR_ACTIONS, code) ? ERROR_ACTIONS[code] : "fatal";
  return (
    /** @type {"retry" | "reconnect" | "fatal"} */
    action
  );
}
var ReplyError = class extends Error {
  /**
   * @param {string} code a protocol error code (`forbidden`, `not_found`, ...)
   * @param {string} message the server's explanation
   * @param {string} [action] what to do; from the error table when omitted
   */
  constructor(code, message, action) {
    super(`${code}: ${message}`);
    this.name = "ReplyError";
    this.code = code;
    this.action = action || actionFor(code);
  }
};
var ConnectionLost = class extends Error {
  /** @param {string} [message] */
  constructor(message = "connection lost before the reply") {
    super(message);
    this.name = "ConnectionLost";
  }
};
var RequestTimeout = class extends Error {
  /** @param {number} ms */
  constructor(ms) {
    super(`no reply within ${ms} ms`);
    this.name = "RequestTimeout";
  }
};
var ClientClosed = class extends Error {
  /**
   * @param {string} message
   * @param {number | null} [code] the WebSocket close code, when the server closed
   * @param {string} [errorCode] the protocol error code that preceded the close, if any
   */
  constructor(message, code = null, errorCode = "") {
    super(message);
    this.name = "ClientClosed";
    this.code = code;
    this.errorCode = errorCode;
  }
};

// web/client/src/outbox.js
var Outbox = class {
  constructor() {
    this.entries = /* @__PURE__ */ new Map();
    this.byRequest = /* @__PURE__ */ new Map();
  }
  /** Number of pending sends. */
  get size() {
    return this.entries.size;
  }
  /**
   * Queue a send. A cmid may be pending only once.
   * @param {{conv: string, cmid: string, kind: "text" | "rich" | "custom", body: Record<string, any>, mentions: string[]}} send
   * @param {(ack: import("./schema.js").AckFrame) => void} resolve
   * @param {(error: Error) => void} reject
   * @returns {OutboxEntry}
   */
  add(send, resolve, reject) {
    if (this.entries.has(send.cmid)) throw new Error(`a send with cmid ${send.cmid} is already pending`);
    const entry = { ...send, mentions: [...send.mentions], requestId: null, attempts: 0, resolve, reject };
    this.entries.set(send.cmid, entry);
    return entry;
  }
  /**
   * The `send` frame for one transmission of `entry` as request `requestId` (recorded).
   * @param {OutboxEntry} entry
   * @param {number} requestId
   * @returns {import("./schema.js").SendFrame}
   */
  transmit(entry, requestId) {
    this.detach(entry);
    entry.requestId = requestId;
    this.byRequest.set(requestId, entry);
    const { conv, cmid, kind, body, mentions } = entry;
    return { t: "send", id: requestId, conv, cmid, body, kind, mentions };
  }
  /**
   * Whether `requestId` is a transmission of a pending send.
   * @param {number | null} requestId
   */
  owns(requestId) {
    return requestId !== null && this.byRequest.has(requestId);
  }
  /**
   * Complete the send an ack answers (matched by cmid, else by request id).
   * A second ack for a send already completed (a resend's `dup`) finds nothing.
   * @param {import("./schema.js").AckFrame} ack
   * @returns {OutboxEntry | null} the completed send
   */
  ack(ack) {
    let entry = this.entries.get(ack.cmid);
    if (!entry || entry.conv !== ack.conv) entry = this.byRequest.get(ack.id);
    if (!entry) return null;
    this.remove(entry);
    entry.resolve(ack);
    return entry;
  }
  /**
   * The pending send an error with this request id answers (detached from the wire), or null.
   * @param {number | null} requestId
   * @returns {OutboxEntry | null}
   */
  answered(requestId) {
    const entry = requestId === null ? void 0 : this.byRequest.get(requestId);
    if (!entry) return null;
    this.detach(entry);
    return entry;
  }
  /**
   * Drop `entry` for good (acked, or failed with a fatal error).
   * @param {OutboxEntry} entry
   */
  remove(entry) {
    this.detach(entry);
    if (this.entries.get(entry.cmid) === entry) this.entries.delete(entry.cmid);
  }
  /** The connection dropped: every entry is off the wire and will be resent. */
  connectionLost() {
    for (const entry of this.byRequest.values()) entry.requestId = null;
    this.byRequest.clear();
  }
  /**
   * Entries to (re)send on a fresh connection, in first-send order.
   * @returns {OutboxEntry[]}
   */
  resendable() {
    return [...this.entries.values()].filter((e) => e.requestId === null);
  }
  /**
   * Fail every pending send (the client is closing for good).
   * @param {Error} error
   */
  failAll(error) {
    const all = [...this.entries.values()];
    this.entries.clear();
    this.byRequest.clear();
    for (const entry of all) entry.reject(error);
  }
  /** @param {OutboxEntry} entry */
  detach(entry) {
    if (entry.requestId !== null && this.byRequest.get(entry.requestId) === entry) this.byRequest.delete(entry.requestId);
    entry.requestId = null;
  }
};

// web/client/src/requests.js
var Requests = class extends EventTarget {
  /** @param {{requestTimeoutMs: number}} options */
  constructor(options) {
    super();
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.outbox = new Outbox();
    this.welcome = null;
    this.socket = null;
    this.ready = false;
    this.closedError = null;
    this.pending = /* @__PURE__ */ new Map();
    this.nextId = 1;
    this.waiters = /* @__PURE__ */ new Set();
    this.timers = /* @__PURE__ */ new Set();
  }
  /**
   * Publish `detail` as a CustomEvent of `type`.
   * @param {string} type
   * @param {any} [detail]
   */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
  /**
   * Run `fn` after `ms` unless the client closes first.
   * @param {() => void} fn
   * @param {number} ms
   */
  later(fn, ms) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }
  notify() {
    for (const wake of [...this.waiters]) wake();
  }
  /** Wait until connected; rejects once closed for good. */
  async whenReady() {
    while (!(this.ready && this.socket)) {
      if (this.closedError) throw this.closedError;
      await new Promise((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          resolve(void 0);
        };
        this.waiters.add(wake);
      });
    }
    return this.socket;
  }
  /**
   * Send a request on `socket` and wait for its reply (an `error` rejects with {@link ReplyError}).
   * @param {Socket} socket
   * @param {Record<string, any> & {t: string}} frame without `id`
   * @returns {Promise<any>}
   */
  requestOn(socket, frame) {
    const id = this.nextId++;
    const ms = this.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeout(ms));
      }, ms);
      const done = (fn) => (v) => {
        clearTimeout(timer);
        fn(v);
      };
      this.pending.set(id, { resolve: done(resolve), reject: done(reject) });
      let bytes;
      try {
        bytes = this.sized(encodeFrame({ ...frame, id }));
      } catch (exc) {
        this.pending.delete(id);
        return done(reject)(exc);
      }
      if (!socket.send(bytes)) {
        this.pending.delete(id);
        done(reject)(new ConnectionLost("connection lost before the request went out"));
      }
    });
  }
  /**
   * Send a request once connected and return its reply. An idempotent request is
   * retried across reconnects; others reject with {@link ConnectionLost} when the
   * connection drops before the reply. Bounded by `requestTimeoutMs`.
   * @param {Record<string, any> & {t: string}} frame without `id`
   * @param {{idempotent?: boolean}} [options]
   * @returns {Promise<any>}
   */
  async request(frame, { idempotent = true } = {}) {
    const deadline = Date.now() + this.requestTimeoutMs;
    for (; ; ) {
      const socket = await withDeadline(this.whenReady(), deadline, this.requestTimeoutMs);
      try {
        return await this.requestOn(
          /** @type {Socket} */
          socket,
          frame
        );
      } catch (exc) {
        const retry = exc instanceof ConnectionLost && idempotent;
        if (!retry || Date.now() >= deadline) throw exc;
      }
    }
  }
  /**
   * Send a frame that has no reply (typing, draft); false if not connected (it is dropped).
   * @param {Record<string, any> & {t: string}} frame
   * @returns {boolean}
   */
  write(frame) {
    return Boolean(this.ready && this.socket?.send(this.sized(encodeFrame(frame))));
  }
  /**
   * Put one unacked send on the wire as a new transmission. A send the server would refuse
   * unread (over its `max_frame`: the refusal could not name the request) fails here instead.
   * @param {Socket} socket
   * @param {import("./outbox.js").OutboxEntry} entry
   */
  transmit(socket, entry) {
    let bytes;
    try {
      bytes = this.sized(encodeFrame(this.outbox.transmit(entry, this.nextId++)));
    } catch (exc) {
      this.outbox.remove(entry);
      return entry.reject(
        /** @type {Error} */
        exc
      );
    }
    socket.send(bytes);
  }
  /**
   * `bytes`, if they fit the largest frame the server accepts (from `welcome`).
   * @param {Uint8Array} bytes
   * @returns {Uint8Array}
   */
  sized(bytes) {
    const limit = this.welcome?.max_frame ?? 0;
    if (limit > 0 && bytes.byteLength > limit) {
      throw new FrameError("frame_too_large", `frame of ${bytes.byteLength} bytes exceeds the server's limit of ${limit}`);
    }
    return bytes;
  }
};
function withDeadline(promise, deadline, ms) {
  let timer;
  const timeout = new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new RequestTimeout(ms)), Math.max(0, deadline - Date.now()));
  });
  return (
    /** @type {Promise<T>} */
    Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
  );
}

// web/client/src/router.js
var OWN_GAP_GRACE_MS = 500;
function route(s, frame) {
  if (frame.t === "ack" && s.outbox.owns(frame.id)) return acked(s, frame);
  if (frame.t === "error" && frame.id !== null && s.outbox.owns(frame.id)) return sendRefused(s, frame);
  const id = "id" in frame ? frame.id : null;
  if (id !== null && id !== void 0 && frame.t !== "pong") {
    const waiter = s.pending.get(id);
    if (waiter) {
      s.pending.delete(id);
      if (frame.t === "error") waiter.reject(new ReplyError(frame.code, frame.message, frame.action));
      else waiter.resolve(frame);
    }
    return;
  }
  pushed(s, frame);
}
function pushed(s, frame) {
  switch (frame.t) {
    case "msg":
      return merge(s, frame.m, false);
    case "conv_event":
      if (frame.event === "left") s.streams.forget(frame.conv.conv);
      else s.streams.track(frame.conv.conv, frame.conv.last_seq, frame.conv.epoch);
      break;
    case "resync":
      for (const conv of frame.convs.length ? frame.convs : [...s.streams.seqs.keys()]) s.want(conv);
      break;
    case "bye":
      s.byeMs = frame.reconnect_ms;
      break;
    case "error":
      if (frame.code === "token_expired" || frame.code === "token_revoked") s.refresh = true;
      break;
  }
  if (frame.t !== "pong") s.emit(frame.t, frame);
}
function merge(s, m, own) {
  const { deliver, syncNeeded } = s.streams.onMessage(m);
  s.deliver(deliver);
  if (!syncNeeded) return;
  if (!own) return s.want(m.conv);
  s.later(() => {
    if (s.streams.held(m.conv).length) s.want(m.conv);
  }, s.options.ownGapGraceMs ?? OWN_GAP_GRACE_MS);
}
function acked(s, ack) {
  const entry = s.outbox.ack(ack);
  if (!entry) return;
  const { conv, cmid, kind, mentions } = entry;
  const body = ack.body ?? entry.body;
  merge(s, { conv, seq: ack.seq, mid: ack.mid, sender: s.user, kind, body, ts: ack.ts, cmid, mentions, edited: 0, recalled: false }, true);
}
function sendRefused(s, error) {
  const entry = s.outbox.answered(error.id);
  if (!entry) return;
  const reply = new ReplyError(error.code, error.message, error.action);
  if (reply.action === "fatal") {
    s.outbox.remove(entry);
    return entry.reject(reply);
  }
  if (reply.action === "reconnect") return s.reconnectNow();
  entry.attempts += 1;
  s.later(() => {
    if (s.outbox.entries.get(entry.cmid) === entry && entry.requestId === null && s.ready && s.socket) {
      s.transmit(s.socket, entry);
    }
  }, s.backoff.delay(entry.attempts - 1) * 1e3);
}

// web/client/src/socket.js
var Socket = class _Socket {
  /**
   * @param {WebSocket} ws an open WebSocket
   * @param {Promise<CloseInfo>} closed settles when it closes
   * @param {Array<Uint8Array>} queue messages received before a listener was set
   */
  constructor(ws, closed, queue) {
    this.ws = ws;
    this.closed = closed;
    this.queue = queue;
    this.listener = null;
    this.wake = null;
  }
  /**
   * Open a WebSocket to `url` (binary frames as ArrayBuffer), within `timeoutMs`.
   * @param {string} url
   * @param {typeof WebSocket} WebSocketCtor
   * @param {number} timeoutMs
   * @returns {Promise<Socket>}
   */
  static open(url, WebSocketCtor, timeoutMs) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocketCtor(url);
      ws.binaryType = "arraybuffer";
      const queue = [];
      let closedResolve = () => {
      };
      const closed = new Promise((r) => closedResolve = r);
      const socket = new _Socket(ws, closed, queue);
      const timer = setTimeout(() => {
        reject(new Error(`WebSocket to ${url} did not open within ${timeoutMs} ms`));
        ws.close();
      }, timeoutMs);
      ws.addEventListener("open", () => {
        clearTimeout(timer);
        resolve(socket);
      });
      ws.addEventListener("message", (event) => {
        const data = event.data;
        const bytes = typeof data === "string" ? new TextEncoder().encode(data) : new Uint8Array(data);
        if (socket.listener) socket.listener(bytes);
        else queue.push(bytes);
        socket.wake?.();
      });
      ws.addEventListener("close", (event) => {
        clearTimeout(timer);
        reject(new Error(`WebSocket to ${url} closed before it opened (${event.code})`));
        closedResolve({ code: event.code || null, reason: event.reason || "" });
        socket.wake?.();
      });
    });
  }
  /**
   * The next message, or null if the socket closes or `timeoutMs` passes first.
   * @param {number} timeoutMs
   * @returns {Promise<Uint8Array | null>}
   */
  async next(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (!this.queue.length) {
      if (this.ws.readyState >= 2 || Date.now() >= deadline) return null;
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(timer);
          resolve(void 0);
        };
      });
      this.wake = null;
    }
    return (
      /** @type {Uint8Array} */
      this.queue.shift()
    );
  }
  /**
   * Hand every message (those queued first) to `listener` from now on.
   * @param {(data: Uint8Array) => void} listener
   */
  listen(listener) {
    this.listener = listener;
    for (const data of this.queue.splice(0)) listener(data);
  }
  /**
   * Send one frame's bytes; false if the socket is no longer open.
   * @param {Uint8Array} bytes
   * @returns {boolean}
   */
  send(bytes) {
    if (this.ws.readyState !== 1) return false;
    this.ws.send(bytes);
    return true;
  }
  /** Start the close handshake (the `closed` promise settles when it completes). */
  close() {
    if (this.ws.readyState < 2) this.ws.close();
  }
};

// web/client/src/streams.js
var Streams = class {
  /**
   * @param {Iterable<Position>} [positions] where a previous session stood (e.g. from storage)
   */
  constructor(positions = []) {
    this.seqs = /* @__PURE__ */ new Map();
    this.epochs = /* @__PURE__ */ new Map();
    this.heldBack = /* @__PURE__ */ new Map();
    this.baseline = false;
    this.strict = false;
    for (const p of positions) {
      this.reset(p.conv, p.seq, p.epoch ?? "");
      this.baseline = true;
    }
  }
  /**
   * Last contiguous seq delivered for `conv` (undefined if untracked).
   * @param {string} conv
   */
  position(conv) {
    return this.seqs.get(conv);
  }
  /**
   * Positions to put in a `sync` (all tracked conversations when `convs` is omitted).
   * @param {Iterable<string>} [convs]
   * @returns {Position[]}
   */
  positions(convs) {
    const names = convs === void 0 ? [...this.seqs.keys()] : [...convs].filter((c) => this.seqs.has(c));
    return names.map((conv) => ({ conv, seq: (
      /** @type {number} */
      this.seqs.get(conv)
    ), epoch: this.epochs.get(conv) ?? "" }));
  }
  /**
   * Seqs held back for `conv` waiting for a gap to fill (sorted).
   * @param {string} conv
   * @returns {number[]}
   */
  held(conv) {
    return [...this.heldBack.get(conv)?.keys() ?? []].sort((a, b) => a - b);
  }
  /**
   * Classify message `seq` of `conv` without changing state.
   * @param {string} conv
   * @param {number} seq
   * @returns {"deliver" | "duplicate" | "gap"}
   */
  classify(conv, seq) {
    const last = this.seqs.get(conv);
    if (last === void 0 || seq === last + 1) return "deliver";
    return seq <= last ? "duplicate" : "gap";
  }
  /**
   * Merge one incoming message.
   * @param {Message} m
   * @returns {{deliver: Message[], syncNeeded: boolean}} messages to deliver now; whether a new gap opened
   */
  onMessage(m) {
    if (this.strict && !this.seqs.has(m.conv)) this.seqs.set(m.conv, 0);
    const verdict = this.classify(m.conv, m.seq);
    if (verdict === "duplicate") return { deliver: [], syncNeeded: false };
    if (verdict === "gap") {
      let held = this.heldBack.get(m.conv);
      const fresh = !held;
      if (!held) this.heldBack.set(m.conv, held = /* @__PURE__ */ new Map());
      held.set(m.seq, m);
      return { deliver: [], syncNeeded: fresh };
    }
    this.seqs.set(m.conv, Math.max(m.seq, this.seqs.get(m.conv) ?? 0));
    return { deliver: [m, ...this.drain(m.conv)], syncNeeded: false };
  }
  /**
   * Apply a `synced` reply to a sync that listed the conversations `listed`.
   * @param {SyncedFrame} synced
   * @param {Iterable<string>} listed
   * @returns {SyncOutcome}
   */
  onSynced(synced, listed) {
    const asked = new Set(listed);
    const out = { deliver: [], resets: [], again: /* @__PURE__ */ new Set() };
    for (const s of synced.convs) {
      if (s.reset) {
        out.resets.push(s);
        if (!s.epoch) {
          this.forget(s.conv);
          continue;
        }
        this.reset(s.conv, s.last_seq, s.epoch);
      } else if (asked.has(s.conv)) {
        this.epochs.set(s.conv, s.epoch);
        if (s.more || (this.seqs.get(s.conv) ?? 0) < s.last_seq) out.again.add(s.conv);
      } else if (!this.seqs.has(s.conv)) {
        if (this.baseline) {
          this.reset(s.conv, 0, s.epoch);
          if (s.last_seq > 0) out.again.add(s.conv);
        } else {
          this.reset(s.conv, s.last_seq, s.epoch);
        }
      } else if (!this.epochs.get(s.conv)) {
        this.epochs.set(s.conv, s.epoch);
      }
      out.deliver.push(...this.drain(s.conv));
      if (this.heldBack.get(s.conv)?.size) out.again.add(s.conv);
    }
    return out;
  }
  /**
   * Learn of `conv` (joined, created): start at `lastSeq` unless already tracked.
   * @param {string} conv
   * @param {number} lastSeq
   * @param {string} epoch
   */
  track(conv, lastSeq, epoch) {
    if (!this.seqs.has(conv)) this.reset(conv, lastSeq, epoch);
    else if (!this.epochs.get(conv)) this.epochs.set(conv, epoch);
  }
  /**
   * Start tracking `conv` afresh at `seq` in stream `epoch`.
   * @param {string} conv
   * @param {number} seq
   * @param {string} epoch
   */
  reset(conv, seq, epoch) {
    this.seqs.set(conv, seq);
    this.epochs.set(conv, epoch);
  }
  /**
   * Give up on a gap the server cannot fill: jump to the first held message.
   * @param {string} conv
   * @returns {Message[]}
   */
  skipGap(conv) {
    const held = this.held(conv);
    if (!held.length) return [];
    this.seqs.set(conv, held[0] - 1);
    return this.drain(conv);
  }
  /**
   * Stop tracking `conv` (the user left it, or it is gone).
   * @param {string} conv
   */
  forget(conv) {
    this.seqs.delete(conv);
    this.epochs.delete(conv);
    this.heldBack.delete(conv);
  }
  /**
   * Release the held messages of `conv` that are now in order.
   * @param {string} conv
   * @returns {Message[]}
   */
  drain(conv) {
    const held = this.heldBack.get(conv);
    if (!held) return [];
    let pos = this.seqs.get(conv) ?? 0;
    for (const seq of [...held.keys()]) if (seq <= pos) held.delete(seq);
    const out = [];
    while (held.has(pos + 1)) {
      pos += 1;
      out.push(
        /** @type {Message} */
        held.get(pos)
      );
      held.delete(pos);
    }
    if (out.length) this.seqs.set(conv, Math.max(pos, this.seqs.get(conv) ?? 0));
    if (!held.size) this.heldBack.delete(conv);
    return out;
  }
};

// web/client/src/session.js
var REFRESH_MARGIN_S = 30;
var Fatal = class extends Error {
  /** @param {ClientClosed} closed */
  constructor(closed) {
    super(closed.message);
    this.closed = closed;
  }
};
var Session = class extends Requests {
  /** @param {SessionOptions} options */
  constructor(options) {
    const WebSocketCtor = options.WebSocket ?? globalThis.WebSocket;
    if (!WebSocketCtor) throw new TypeError("no WebSocket: pass options.WebSocket");
    const all = { device: "", clientName: "parley-js/0.1", requestTimeoutMs: 1e4, ...options, WebSocket: WebSocketCtor };
    super(all);
    this.options = all;
    this.backoff = options.backoff ?? new Backoff();
    this.token = options.token ?? "";
    this.streams = new Streams(options.positions ?? []);
    this.state = "disconnected";
    this.presence = /* @__PURE__ */ new Set();
    this.refresh = false;
    this.byeMs = null;
    this.wanted = /* @__PURE__ */ new Set();
    this.gapWorker = false;
    this.wakeSleep = null;
    this.running = false;
    this.lastHeard = 0;
  }
  /** The authenticated user id ("" before the first `welcome`). */
  get user() {
    return this.welcome?.user ?? "";
  }
  /**
   * Start (idempotent) and wait until the session is connected and resumed.
   * Rejects with {@link ClientClosed} if the client closes for good first (e.g. a bad token).
   * @returns {Promise<import("./schema.js").WelcomeFrame>}
   */
  async connect() {
    if (!this.running && !this.closedError) {
      this.running = true;
      this.supervise().catch((exc) => this.shutdown(new ClientClosed(`client failed: ${exc}`)));
    }
    await this.whenReady();
    return (
      /** @type {import("./schema.js").WelcomeFrame} */
      this.welcome
    );
  }
  /** Close for good: pending requests and sends fail with {@link ClientClosed}. */
  async close() {
    this.shutdown(new ClientClosed("client closed"));
  }
  /**
   * Where the session stands per conversation; store it and pass it as `positions` next time.
   * @returns {import("./schema.js").Position[]}
   */
  positions() {
    return this.streams.positions();
  }
  /**
   * Close the current WebSocket so that the session reconnects (and resumes) at once.
   * Also how tests simulate a dropped network.
   */
  reconnectNow() {
    this.byeMs = 0;
    this.socket?.close();
  }
  // ----------------------------------------------------------------- events
  /**
   * @param {ClientState} state
   * @param {{code?: number | null, reason?: string, error?: Error}} [info]
   */
  setState(state, info = {}) {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.emit("state", { state, previous, ...info });
  }
  // ------------------------------------------------------------- supervisor
  async supervise() {
    let attempt = 0;
    while (!this.closedError) {
      this.setState("connecting");
      let closeInfo = { code: null, reason: "" };
      try {
        const socket = await this.open();
        if (this.closedError) {
          socket.close();
          return;
        }
        this.socket = socket;
        const heartbeat = this.heartbeat(socket);
        try {
          socket.listen((data) => this.receive(data));
          try {
            await this.resume(socket);
            attempt = 0;
            this.ready = true;
            this.setState("connected");
            this.notify();
            const [gap] = this.wanted;
            if (gap !== void 0) this.want(gap);
          } catch (exc) {
            socket.close();
            if (!(exc instanceof ConnectionLost || exc instanceof RequestTimeout || exc instanceof ReplyError)) throw exc;
          }
          closeInfo = await socket.closed;
        } finally {
          clearInterval(heartbeat);
          this.lost();
        }
        if (this.closedError) return;
        if (closeInfo.code !== null && NO_RECONNECT.includes(closeInfo.code) && this.byeMs === null) {
          throw new Fatal(new ClientClosed(`server closed the connection: ${closeInfo.reason}`, closeInfo.code));
        }
        if (closeInfo.code !== null && REFRESH_TOKEN.includes(closeInfo.code)) this.refresh = true;
      } catch (exc) {
        if (exc instanceof Fatal) return this.shutdown(exc.closed);
        this.emit("debug", { message: `connect failed: ${exc}` });
      }
      if (this.closedError) return;
      this.setState("connecting", closeInfo);
      const delayMs = this.byeMs ?? this.backoff.delay(attempt) * 1e3;
      this.byeMs = null;
      attempt += 1;
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.wakeSleep = () => {
          clearTimeout(timer);
          resolve(void 0);
        };
      });
      this.wakeSleep = null;
    }
  }
  /** @returns {Promise<Socket>} an authenticated socket (its `welcome` stored) */
  async open() {
    const token = await this.currentToken();
    const timeout = this.options.requestTimeoutMs;
    const socket = await Socket.open(this.options.url, this.options.WebSocket, timeout);
    const hello = { t: "hello", v: PROTOCOL_VERSION, token, device: this.options.device, client: this.options.clientName };
    socket.send(encodeFrame(hello));
    const data = await socket.next(timeout);
    let frame = null;
    try {
      frame = data && decodeFrame(data);
    } catch (exc) {
      socket.close();
      throw exc;
    }
    if (frame?.t === "welcome") {
      this.welcome = frame;
      this.emit("welcome", frame);
      return socket;
    }
    socket.close();
    const info = await socket.closed;
    if (frame?.t === "error") {
      const error = new ReplyError(frame.code, frame.message, frame.action);
      this.emit("error", frame);
      if ((error.code === "token_expired" || error.code === "token_revoked") && this.options.getToken) {
        this.refresh = true;
        throw error;
      }
      if (error.action === "retry") throw error;
      throw new Fatal(new ClientClosed(`${error.code}: ${error.message}`, info.code, error.code));
    }
    throw new ConnectionLost(`expected welcome, got ${frame ? frame.t : "no frame"}`);
  }
  /** @returns {Promise<string>} the token to use, refreshed when needed */
  async currentToken() {
    const getToken = this.options.getToken;
    if (getToken) {
      const exp = tokenExpiry(this.token);
      const stale = exp !== null && exp - Date.now() / 1e3 < REFRESH_MARGIN_S;
      if (this.refresh || !this.token || stale) {
        this.token = await getToken();
        this.refresh = false;
      }
    }
    if (!this.token) throw new Fatal(new ClientClosed("no token and no getToken callback"));
    return this.token;
  }
  /**
   * After `welcome`: sync, re-subscribe presence, resend the outbox.
   * @param {Socket} socket
   */
  async resume(socket) {
    this.wanted.clear();
    this.streams.strict = this.streams.baseline;
    try {
      await this.syncOn(socket, null);
    } finally {
      this.streams.strict = false;
    }
    if (this.presence.size) {
      try {
        await this.requestOn(socket, { t: "presence_sub", users: [...this.presence].sort() });
      } catch (exc) {
        if (!(exc instanceof ReplyError)) throw exc;
        this.presence.clear();
      }
    }
    for (const entry of this.outbox.resendable()) this.transmit(socket, entry);
  }
  /**
   * Send `ping` every `heartbeat_ms`; a socket silent for two heartbeats is dead: close it.
   * @param {Socket} socket
   * @returns {ReturnType<typeof setInterval> | undefined}
   */
  heartbeat(socket) {
    const every = this.welcome?.heartbeat_ms ?? 0;
    if (every <= 0) return void 0;
    this.lastHeard = Date.now();
    return setInterval(() => {
      if (Date.now() - this.lastHeard > 2 * every + 1e3) socket.close();
      else socket.send(encodeFrame({ t: "ping", ts: Date.now() }));
    }, every);
  }
  /** The socket went away: fail requests in flight, mark every send for resending. */
  lost() {
    this.ready = false;
    this.socket = null;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new ConnectionLost());
    this.outbox.connectionLost();
  }
  /** @param {ClientClosed} error */
  shutdown(error) {
    if (this.closedError) return;
    this.closedError = error;
    this.ready = false;
    this.socket?.close();
    this.wakeSleep?.();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
    this.outbox.failAll(error);
    this.setState("closed", { code: error.code, reason: error.message, error });
    this.notify();
  }
  // ---------------------------------------------------------------- syncing
  /**
   * Run sync rounds on `socket` for `convs` (all when null).
   * @param {Socket} socket
   * @param {Set<string> | null} convs
   */
  async syncOn(socket, convs) {
    await catchUp(this.streams, convs, {
      sync: (positions, after) => this.requestOn(socket, { t: "sync", positions, after }),
      deliver: (messages) => this.deliver(messages),
      reset: (state) => this.emit("reset", state)
    });
  }
  /**
   * Sync `conv` to fill a gap: now if connected, else in the next resume (which syncs everything).
   * @param {string} conv
   */
  want(conv) {
    this.wanted.add(conv);
    if (!this.ready || this.gapWorker) return;
    this.gapWorker = true;
    (async () => {
      try {
        while (this.wanted.size && this.ready && this.socket) {
          const convs = new Set(this.wanted);
          this.wanted.clear();
          await this.syncOn(this.socket, convs);
        }
      } catch (exc) {
        this.emit("debug", { message: `gap sync failed: ${exc}` });
      } finally {
        this.gapWorker = false;
      }
    })();
  }
  /** @param {import("./schema.js").Message[]} messages */
  deliver(messages) {
    for (const m of messages) this.emit("message", m);
  }
  // ---------------------------------------------------------------- routing
  /** @param {Uint8Array} data one WebSocket message */
  receive(data) {
    this.lastHeard = Date.now();
    let frame;
    try {
      frame = decodeFrame(data);
    } catch (exc) {
      if (!(exc instanceof FrameError)) throw exc;
      this.emit("error", { t: "error", code: exc.code, message: exc.message, action: "fatal", id: null });
      return;
    }
    route(this, frame);
  }
};
function tokenExpiry(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(part + "=".repeat((4 - part.length % 4) % 4)));
    return typeof claims?.exp === "number" ? claims.exp : null;
  } catch {
    return null;
  }
}

// web/client/src/client.js
function newCmid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
var ONCE = { idempotent: false };
var ParleyClient = class extends Session {
  /**
   * Listen to one kind of event; returns a function that stops listening.
   * @template {keyof ClientEvents} K
   * @param {K} type
   * @param {(detail: ClientEvents[K]) => void} listener
   * @returns {() => void}
   */
  on(type, listener) {
    const handler = (event) => listener(
      /** @type {CustomEvent} */
      event.detail
    );
    this.addEventListener(type, handler);
    return () => this.removeEventListener(type, handler);
  }
  // ----------------------------------------------------------------- messages
  /**
   * Send a message; resolves with its `ack` once stored. Survives reconnects: the
   * send is resent with the same `cmid` until acked, and stored exactly once. It has no
   * timeout (an outbox outlives an offline spell); it rejects on a refusal (`ReplyError`
   * with action `fatal`) or when the client closes (`ClientClosed`).
   * @param {string} conv
   * @param {Record<string, any>} body e.g. `{text: "hi"}`
   * @param {{kind?: "text" | "rich" | "custom", mentions?: string[], cmid?: string}} [options]
   *   `cmid`: your idempotency key (the draft id when finishing a draft)
   * @returns {Promise<import("./schema.js").AckFrame>}
   */
  send(conv, body, { kind = "text", mentions = [], cmid = newCmid() } = {}) {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      encodeFrame({ t: "send", id: 0, conv, cmid, body, kind, mentions });
      const entry = this.outbox.add({ conv, cmid, kind, body, mentions }, resolve, reject);
      if (this.ready && this.socket) this.transmit(this.socket, entry);
    });
  }
  /**
   * Replace the body of your message `seq` (answered with the `ack` of the `edit` record).
   * @param {string} conv
   * @param {number} seq
   * @param {Record<string, any>} body
   * @returns {Promise<import("./schema.js").AckFrame>}
   */
  edit(conv, seq, body) {
    return this.request({ t: "edit", conv, seq, body }, ONCE);
  }
  /**
   * Recall message `seq` (yours, or any as the conversation's owner/admin).
   * @param {string} conv
   * @param {number} seq
   * @returns {Promise<import("./schema.js").AckFrame>}
   */
  recall(conv, seq) {
    return this.request({ t: "recall", conv, seq }, ONCE);
  }
  /**
   * Move your read position to `seq` (members get a `receipt`).
   * @param {string} conv
   * @param {number} seq
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  read(conv, seq) {
    return this.request({ t: "read", conv, seq });
  }
  /**
   * A page of history in ascending seq: the newest `limit`, or `before`/`after` a seq.
   * @param {string} conv
   * @param {{before?: number, after?: number, limit?: number}} [range]
   * @returns {Promise<import("./schema.js").PageFrame>}
   */
  history(conv, range = {}) {
    return this.request({ t: "history", conv, ...range });
  }
  /**
   * Tell members you started (or stopped) typing; false if not connected (dropped).
   * @param {string} conv
   * @param {boolean} [on]
   */
  typing(conv, on = true) {
    return this.write({ t: "typing", conv, on });
  }
  /**
   * Stream a message as it grows (the whole text so far each time); finish with
   * `send(conv, body, {cmid: draft})`, or `done: true` to abandon it.
   * @param {string} conv
   * @param {string} draft the draft id
   * @param {Record<string, any>} body
   * @param {boolean} [done]
   */
  draft(conv, draft, body, done = false) {
    return this.write({ t: "draft", conv, draft, body, done });
  }
  /**
   * Record an audience event of this user (`event` declared in the app's audience schema).
   * `eid` is the idempotency key (a random one by default), kept across the retries of this
   * call, so an event re-sent after a reconnect is stored once (`dup` in the reply).
   * @param {string} event
   * @param {Record<string, any>} [props]
   * @param {{ts?: number, eid?: string}} [options] `ts`: ms since the epoch (default: the server's now)
   * @returns {Promise<import("./schema.js").TrackResultFrame>}
   */
  track(event, props = {}, { ts = 0, eid = `e_${newCmid().slice(0, 24)}` } = {}) {
    return this.request({ t: "track", event, props, ts, eid });
  }
  // ------------------------------------------------------------ conversations
  /**
   * Create a conversation (`direct` returns the existing one for the pair).
   * @param {{kind: "direct" | "group" | "support", members?: string[], name?: string, meta?: Record<string, any>}} spec
   * @returns {Promise<import("./schema.js").ConvResultFrame>}
   */
  async convCreate(spec) {
    const reply = await this.request({ t: "conv_create", ...spec }, { idempotent: spec.kind === "direct" });
    this.streams.track(reply.conv.conv, reply.conv.last_seq, reply.conv.epoch);
    return reply;
  }
  /**
   * One conversation with its members.
   * @param {string} conv
   * @returns {Promise<import("./schema.js").ConvResultFrame>}
   */
  convGet(conv) {
    return this.request({ t: "conv_get", conv });
  }
  /**
   * A page of your conversations in id order (`more`: ask again with `after` = the last id).
   * @param {{after?: string, limit?: number}} [page]
   * @returns {Promise<import("./schema.js").ConvListResultFrame>}
   */
  convList(page = {}) {
    return this.request({ t: "conv_list", ...page });
  }
  /**
   * Change a conversation's name and/or meta.
   * @param {string} conv
   * @param {{name?: string, meta?: Record<string, any>}} change
   * @returns {Promise<import("./schema.js").ConvResultFrame>}
   */
  convUpdate(conv, change) {
    return this.request({ t: "conv_update", conv, ...change });
  }
  /**
   * @param {string} conv
   * @param {string[]} users
   * @param {"owner" | "admin" | "member"} [role]
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  memberAdd(conv, users, role = "member") {
    return this.request({ t: "member_add", conv, users, role });
  }
  /**
   * @param {string} conv
   * @param {string[]} users
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  memberRemove(conv, users) {
    return this.request({ t: "member_remove", conv, users });
  }
  /**
   * @param {string} conv
   * @param {string} user
   * @param {"owner" | "admin" | "member"} role
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  memberRole(conv, user, role) {
    return this.request({ t: "member_role", conv, user, role });
  }
  /**
   * @param {string} conv
   * @param {{after?: string, limit?: number}} [page]
   * @returns {Promise<import("./schema.js").MemberPageFrame>}
   */
  memberList(conv, page = {}) {
    return this.request({ t: "member_list", conv, ...page });
  }
  /**
   * Leave a conversation (not a direct one).
   * @param {string} conv
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  async leave(conv) {
    const reply = await this.request({ t: "leave", conv });
    this.streams.forget(conv);
    return reply;
  }
  // ----------------------------------------------------------------- presence
  /**
   * Watch users' presence (kept across reconnects); their current state arrives as `presence` events.
   * @param {string[]} users
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  async presenceSub(users) {
    const reply = await this.request({ t: "presence_sub", users });
    for (const u of users) this.presence.add(u);
    return reply;
  }
  /**
   * @param {string[]} users
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  async presenceUnsub(users) {
    for (const u of users) this.presence.delete(u);
    return this.request({ t: "presence_unsub", users });
  }
  // ------------------------------------------------------------------ support
  /**
   * Agents: the conversations waiting for an agent (oldest first) and your own.
   * @returns {Promise<import("./schema.js").SupportListFrame>}
   */
  supportQueue() {
    return this.request({ t: "support_queue" });
  }
  /**
   * Ask for a human (the bot or the customer).
   * @param {string} conv
   * @param {{reason?: string, summary?: string}} [why]
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  supportHandoff(conv, why = {}) {
    return this.request({ t: "support_handoff", conv, ...why }, ONCE);
  }
  /**
   * Agents: take a waiting (or bot-handled) conversation; the reply is the conversation
   * (of two agents claiming at once exactly one wins, the other gets an error).
   * @param {string} conv
   * @returns {Promise<import("./schema.js").ConvResultFrame>}
   */
  supportClaim(conv) {
    return this.request({ t: "support_claim", conv }, ONCE);
  }
  /**
   * Hand your conversation to another agent.
   * @param {string} conv
   * @param {string} agent
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  supportTransfer(conv, agent) {
    return this.request({ t: "support_transfer", conv, agent }, ONCE);
  }
  /**
   * Hand your conversation back to the bot.
   * @param {string} conv
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  supportRelease(conv) {
    return this.request({ t: "support_release", conv }, ONCE);
  }
  /**
   * Mark the conversation resolved (the customer is asked for a score).
   * @param {string} conv
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  supportResolve(conv) {
    return this.request({ t: "support_resolve", conv }, ONCE);
  }
  /**
   * The customer's satisfaction score (1…5) for a resolved conversation.
   * @param {string} conv
   * @param {number} score
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  supportRate(conv, score) {
    return this.request({ t: "support_rate", conv, score }, ONCE);
  }
  /**
   * An internal note: agents see it, the customer never does (the reply is the `ack`
   * of the note in the ticket's agents-only notes conversation).
   * @param {string} conv
   * @param {string} text
   * @returns {Promise<import("./schema.js").AckFrame>}
   */
  supportNote(conv, text) {
    return this.request({ t: "support_note", conv, text }, ONCE);
  }
  /**
   * Agents and bots: a customer's profile and tags.
   * @param {string} user
   * @returns {Promise<import("./schema.js").ProfileResultFrame>}
   */
  profileGet(user) {
    return this.request({ t: "profile_get", user });
  }
  /**
   * Agents and bots: add and remove tags, set attributes.
   * @param {string} user
   * @param {{add?: Array<{name: string, confidence?: number, ttl?: number, evidence?: string}>, remove?: string[], source?: string, attributes?: Record<string, any>}} change
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  profileTag(user, change) {
    return this.request({ t: "profile_tag", user, ...change });
  }
};
export {
  Backoff,
  ClientClosed,
  ConnectionLost,
  DEFAULT_MAX_FRAME,
  FrameError,
  MAX_DEPTH,
  MAX_FRUITLESS,
  MAX_SYNC_ROUNDS,
  OWN_GAP_GRACE_MS,
  Outbox,
  PROTOCOL_VERSION,
  ParleyClient,
  ReplyError,
  RequestTimeout,
  Requests,
  Session,
  Streams,
  actionFor,
  catchUp,
  decodeClientFrame,
  decodeFrame,
  encodeFrame,
  newCmid,
  tokenExpiry
};
