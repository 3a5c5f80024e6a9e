#!/usr/bin/env python3
"""A minimal openpi client that uses only Debian's python3-msgpack, python3-numpy and python3-websockets.

It encodes the way openpi-client's msgpack_numpy does (ndarrays and numpy scalars as maps with BINARY keys,
strings as str, bytes as bin) so @vla/openpi's tests can check the server and the codec against it.

  openpi_client_check.py infer --url ws://127.0.0.1:8000 --state 0.1,0.2 --image head:24x32:hwc --prompt "pick" [--requests 2]
      connects, prints the metadata and each reply (shape, dtype, values, timings) as JSON; exit 1 when a
      reply is malformed, 2 when the server reports an error.
  openpi_client_check.py encode < spec.json     prints the hex of msgpack(value built from the JSON spec)
  openpi_client_check.py decode < hex           prints the decoded value as JSON
A spec is JSON where {"$nd": [values], "dtype": "<f4", "shape": [2, 3]} is an ndarray and
{"$np": value, "dtype": "<f4"} a numpy scalar; every other value is itself.
"""
import argparse
import asyncio
import json
import sys

import msgpack
import numpy as np
import websockets


def _pack_default(obj):
    # As openpi_client.msgpack_numpy.pack_array: refuse void/object/complex, keys are bytes (bin).
    if isinstance(obj, (np.ndarray, np.generic)) and obj.dtype.kind in ("V", "O", "c"):
        raise ValueError(f"Unsupported dtype: {obj.dtype}")
    if isinstance(obj, np.ndarray):
        return {b"__ndarray__": True, b"data": obj.tobytes(), b"dtype": obj.dtype.str, b"shape": obj.shape}
    if isinstance(obj, np.generic):
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    return obj


def _unpack_hook(obj):
    if b"__ndarray__" in obj:
        return np.ndarray(buffer=obj[b"data"], dtype=np.dtype(obj[b"dtype"]), shape=obj[b"shape"])
    if b"__npgeneric__" in obj:
        return np.dtype(obj[b"dtype"]).type(obj[b"data"])
    return obj


def packb(value):
    # msgpack-python's defaults (use_bin_type=True) are what openpi-client relies on.
    return msgpack.packb(value, default=_pack_default)


def unpackb(data):
    return msgpack.unpackb(data, object_hook=_unpack_hook)


def from_spec(v):
    if isinstance(v, dict) and "$nd" in v:
        return np.array(v["$nd"], dtype=np.dtype(v["dtype"])).reshape(v["shape"])
    if isinstance(v, dict) and "$np" in v:
        return np.dtype(v["dtype"]).type(v["$np"])
    if isinstance(v, dict):
        return {k: from_spec(x) for k, x in v.items()}
    if isinstance(v, list):
        return [from_spec(x) for x in v]
    return v


def to_json(v):
    if isinstance(v, np.ndarray):
        return {"$nd": v.astype(np.float64).ravel().tolist() if v.dtype.kind != "b" else v.ravel().tolist(),
                "dtype": v.dtype.str, "shape": list(v.shape)}
    if isinstance(v, np.generic):
        return {"$np": v.item(), "dtype": v.dtype.str}
    if isinstance(v, dict):
        return {(k.decode() if isinstance(k, bytes) else str(k)): to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    if isinstance(v, bytes):
        return {"$bytes": v.hex()}
    return v


def make_image(spec, seed):
    # name:HxW:layout, pixels from a fixed formula so the server side can check them.
    name, size, layout = spec.split(":")
    h, w = (int(x) for x in size.split("x"))
    hwc = ((np.arange(h * w * 3, dtype=np.int64) * 7 + seed) % 251).astype(np.uint8).reshape(h, w, 3)
    return name, (hwc if layout == "hwc" else np.ascontiguousarray(hwc.transpose(2, 0, 1)))


async def infer(args):
    state = np.array([float(x) for x in args.state.split(",")], dtype=np.dtype(args.state_dtype))
    out = {"replies": []}
    async with websockets.connect(args.url, compression=None, max_size=None) as ws:
        out["metadata"] = to_json(unpackb(await ws.recv()))
        for r in range(args.requests):
            obs = {"state": state, "images": dict(make_image(s, r) for s in args.image), "prompt": args.prompt}
            if r > 0 and args.rtc:
                obs["actions_executed"] = np.int64(1)
                obs["inference_delay"] = 1
            await ws.send(packb(obs))
            reply = await ws.recv()
            if isinstance(reply, str):
                out["error"] = reply
                print(json.dumps(out))
                return 2
            reply = unpackb(reply)
            actions = reply["actions"]
            ok = (isinstance(actions, np.ndarray) and actions.dtype == np.float32 and actions.ndim == 2
                  and actions.shape[1] == state.shape[0])
            out["replies"].append({
                "ok": bool(ok),
                "dtype": actions.dtype.str,
                "shape": list(actions.shape),
                "actions": actions.astype(np.float64).ravel().tolist(),
                "policy_timing": to_json(reply.get("policy_timing")),
                "server_timing": to_json(reply.get("server_timing")),
            })
            if not ok:
                print(json.dumps(out))
                return 1
    print(json.dumps(out))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("infer")
    i.add_argument("--url", required=True)
    i.add_argument("--state", required=True, help="comma-separated robot-unit values")
    i.add_argument("--state-dtype", default="<f4")
    i.add_argument("--image", action="append", default=[], help="name:HxW:hwc|chw (repeatable)")
    i.add_argument("--prompt", default="")
    i.add_argument("--requests", type=int, default=1)
    i.add_argument("--rtc", action="store_true", help="send actions_executed/inference_delay after the first reply")
    sub.add_parser("encode")
    sub.add_parser("decode")
    args = p.parse_args()
    if args.cmd == "encode":
        print(packb(from_spec(json.load(sys.stdin))).hex())
        return 0
    if args.cmd == "decode":
        print(json.dumps(to_json(unpackb(bytes.fromhex(sys.stdin.read().strip())))))
        return 0
    return asyncio.run(infer(args))


if __name__ == "__main__":
    sys.exit(main())
