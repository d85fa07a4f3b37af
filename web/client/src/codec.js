/**
 * @module codec
 * Encode frames to MessagePack bytes and decode bytes to frames, exactly as the
 * Python core (`proto/codec.py`) does, so the shared vectors in `proto/vectors/`
 * round-trip byte for byte.
 *
 * Encoding: the frame is checked like the server checks it (types, bounds), then
 * written `t` first, the fields in the schema's order, fields holding their default left out, integers in their smallest width, floats as 64-bit.
 * `@msgpack/msgpack` writes integers at or beyond 2^53 as floats; msgspec writes
 * them as (u)int64, so such integers are handed to it as BigInt.
 *
 * Decoding is total: any bytes give a frame (defaults filled in, unknown keys
 * dropped) or throw a {@link FrameError} with one of the four codes of
 * docs/PROTOCOL.md ("Decoding is total"). Integers come back as numbers when
 * they fit 2^53 exactly and as BigInt otherwise (free-form values only).
 */
import { Decoder, Encoder, ExtData } from "@msgpack/msgpack";
import { CLIENT_FRAMES, RECORDS, SERVER_FRAMES } from "./schema.js";

/** Largest frame the client accepts from a server, in bytes (like the Python `ServerDecoder`). */
export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;
/** Deepest nesting of a free-form value (`body`, `meta`, `attributes`). */
export const MAX_DEPTH = 32;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT32_MAX = 0xffffffff;
const INT32_MIN = -0x80000000;

/** Bytes that did not decode to a valid frame. `code` is an error code of the protocol. */
export class FrameError extends Error {
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
}

// ------------------------------------------------------------------- encoding

const encoder = new Encoder({ useBigInt64: true });

/**
 * Encode one frame (a client frame; server frames too, for tests and fakes).
 * A frame the server would refuse — an unknown `t` or field, a missing required
 * field, a wrong type, a value out of bounds — throws a {@link FrameError}
 * `invalid_frame` here instead, before anything is sent.
 * @param {{t: string} & Record<string, any>} frame
 * @returns {Uint8Array}
 */
export function encodeFrame(frame) {
  const table = CLIENT_FRAMES[frame.t] ?? SERVER_FRAMES[frame.t];
  if (!table) throw new FrameError("invalid_frame", `unknown frame type ${JSON.stringify(frame.t)}`);
  const known = new Set(["t", ...table.map(([name]) => name)]);
  for (const key of Object.keys(frame)) {
    if (!known.has(key) && frame[key] !== undefined) throw new FrameError("invalid_frame", `${frame.t}: unknown field ${key}`);
  }
  const defined = Object.fromEntries(Object.entries(frame).filter(([, v]) => v !== undefined));
  return encoder.encode({ t: frame.t, ...wireRecord(check(defined, table, frame.t), table) });
}

/**
 * A checked record in wire form: fields in table order, defaults left out.
 * @param {Record<string, any>} value
 * @param {import("./schema.js").FieldTable} table
 * @returns {Record<string, any>}
 */
function wireRecord(value, table) {
  /** @type {Record<string, any>} */
  const out = {};
  for (const [name, type, required, dflt] of table) {
    if (required || !equal(value[name], dflt)) out[name] = wireValue(value[name], type);
  }
  return out;
}

/**
 * @param {any} v
 * @param {import("./schema.js").TypeDesc} type
 * @returns {any}
 */
function wireValue(v, type) {
  if (!Array.isArray(type)) return widen(v);
  const [kind, inner] = type;
  if (kind === "bound") return wireValue(v, inner);
  if (kind === "opt") return v === null ? null : wireValue(v, inner);
  if (kind === "list") return v.map((/** @type {any} */ x) => wireValue(x, inner));
  return wireRecord(v, RECORDS[inner]);
}

/**
 * Plain data with every integer outside the 32-bit range as BigInt, so it is written
 * as (u)int64 like msgspec writes it (never as a float).
 * @param {any} v
 * @returns {any}
 */
function widen(v) {
  if (typeof v === "number") {
    return Number.isInteger(v) && (v > UINT32_MAX || v < INT32_MIN) ? BigInt(v) : v;
  }
  if (Array.isArray(v)) return v.map(widen);
  if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
    /** @type {Record<string, any>} */
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = widen(x);
    return out;
  }
  return v;
}

/**
 * Deep equality of plain data (for "holds its default").
 * @param {any} a
 * @param {any} b
 * @returns {boolean}
 */
export function equal(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
}

// ------------------------------------------------------------------- decoding

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The library's Decoder, made strict: invalid UTF-8 is `bad_frame` (the library would
 * replace it) and a non-string map key is `invalid_frame`. Its string method is private
 * in the typings, so it is replaced on the instance (the version is pinned; the tests
 * cover both refusals).
 */
const decoder = new Decoder({
  useBigInt64: true,
  keyDecoder: null,
  mapKeyConverter: (key) => {
    if (typeof key !== "string") throw new FrameError("invalid_frame", "map keys must be strings");
    return key;
  },
});
/** @type {any} */ (decoder).decodeUtf8String = function decodeUtf8String(
  /** @type {number} */ byteLength,
  /** @type {number} */ headerOffset,
) {
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

/**
 * Decode one frame that a server sent. Throws {@link FrameError} for anything else.
 * @param {Uint8Array | ArrayBuffer} data
 * @param {number} [maxFrame]
 * @returns {import("./schema.js").ServerFrame}
 */
export function decodeFrame(data, maxFrame = DEFAULT_MAX_FRAME) {
  return /** @type {any} */ (decodeWith(data, SERVER_FRAMES, maxFrame));
}

/**
 * Decode one frame that a client sent (for tests and fake servers; same rules, client tags).
 * @param {Uint8Array | ArrayBuffer} data
 * @param {number} [maxFrame]
 * @returns {import("./schema.js").ClientFrame}
 */
export function decodeClientFrame(data, maxFrame = 64 * 1024) {
  return /** @type {any} */ (decodeWith(data, CLIENT_FRAMES, maxFrame));
}

/**
 * @param {Uint8Array | ArrayBuffer} data
 * @param {Record<string, import("./schema.js").FieldTable>} frames
 * @param {number} maxFrame
 * @returns {Record<string, any>}
 */
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
    throw new FrameError("bad_frame", `malformed MessagePack: ${/** @type {Error} */ (exc).message}`);
  }
  if (!isMap(raw)) throw new FrameError("bad_frame", "a frame must be a MessagePack map");
  const t = raw.t;
  const table = typeof t === "string" && Object.hasOwn(frames, t) ? frames[t] : undefined;
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

/**
 * @param {any} v
 * @returns {v is Record<string, any>}
 */
function isMap(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof ExtData) && !(v instanceof Date);
}

/**
 * Check a map against a field table; a copy with defaults filled in and unknown keys dropped.
 * @param {Record<string, any>} raw
 * @param {import("./schema.js").FieldTable} table
 * @param {string} where
 * @returns {Record<string, any>}
 */
function check(raw, table, where) {
  /** @type {Record<string, any>} */
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

/**
 * @param {any} v
 * @param {import("./schema.js").TypeDesc} type
 * @param {string} where
 * @returns {any}
 */
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

/**
 * `v` if it is within `bounds` (msgspec's constraints; lengths of strings in code points).
 * @param {any} v
 * @param {Record<string, any>} bounds
 * @param {string} where
 * @returns {any}
 */
function bounded(v, bounds, where) {
  const size = typeof v === "string" ? [...v].length : Array.isArray(v) ? v.length : null;
  const why =
    (bounds.values && !bounds.values.includes(v) && `must be one of ${bounds.values.join(", ")}`) ||
    (bounds.ge !== undefined && v < bounds.ge && `must be >= ${bounds.ge}`) ||
    (bounds.le !== undefined && v > bounds.le && `must be <= ${bounds.le}`) ||
    (bounds.gt !== undefined && v <= bounds.gt && `must be > ${bounds.gt}`) ||
    (bounds.lt !== undefined && v >= bounds.lt && `must be < ${bounds.lt}`) ||
    (size !== null && bounds.min_length !== undefined && size < bounds.min_length && `must have length >= ${bounds.min_length}`) ||
    (size !== null && bounds.max_length !== undefined && size > bounds.max_length && `must have length <= ${bounds.max_length}`) ||
    (bounds.pattern && !new RegExp(bounds.pattern).test(v) && `must match ${bounds.pattern}`);
  if (why) throw new FrameError("invalid_frame", `${where} ${why}`);
  return v;
}

/**
 * A 64-bit integer as a number when exact, else as BigInt; past int64 is refused.
 * @param {bigint} v
 * @param {string} where
 * @returns {number | bigint}
 */
function narrow(v, where) {
  if (v < INT64_MIN || v > INT64_MAX) throw new FrameError("invalid_frame", `integer out of 64-bit range at ${where}`);
  return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v;
}

/**
 * Free-form plain data: maps, arrays, strings, numbers, booleans, nil; nothing else.
 * @param {any} v
 * @param {string} where
 * @param {number} depth
 * @returns {any}
 */
function plain(v, where, depth) {
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  if (typeof v === "bigint") return narrow(v, where);
  if (depth > MAX_DEPTH) throw new FrameError("invalid_frame", `value nested deeper than ${MAX_DEPTH} at ${where}`);
  if (Array.isArray(v)) return v.map((x, i) => plain(x, `${where}[${i}]`, depth + 1));
  if (isMap(v)) {
    /** @type {Record<string, any>} */
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = plain(x, `${where}.${k}`, depth + 1);
    return out;
  }
  throw new FrameError("invalid_frame", `binary or extension value at ${where} (plain data only)`);
}
