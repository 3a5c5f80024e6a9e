#!/usr/bin/env python3
"""An openpi client for `vla-control serve`, built only on numpy, msgpack and websockets.

It connects, prints the server's metadata, then sends a few observations of the simulated ARX Lift-2
(three 64x64 uint8 cameras, the 14-value joint state in robot units, a prompt) and prints the shape of
each action chunk it gets back.

    python3 client.py --url ws://127.0.0.1:8000 --requests 3

Exit codes: 0 all replies were well formed, 1 a reply was malformed, 2 the server reported an error.
The wire format is openpi's: msgpack with numpy arrays encoded as openpi-client's `msgpack_numpy`
does, so the same observation dict works with `openpi_client.websocket_client_policy` unchanged.
"""
import argparse
import asyncio
import json
import sys
import time

import msgpack
import numpy as np
import websockets

# ARX Lift-2 as the policy sees it: left arm 6 joints (rad), left gripper (m per finger), then the right side.
LIFT2_HOME = np.array([0, 0.8, 0.8, 0, 0, 0, 0.044] * 2, dtype=np.float32)
LIFT2_CAMERAS = ("head", "hand_left", "hand_right")


# --- msgpack-numpy, as openpi-client encodes it: arrays are maps with BINARY keys ---------------------
def pack_array(obj):
    if isinstance(obj, (np.ndarray, np.generic)) and obj.dtype.kind in ("V", "O", "c"):
        raise ValueError(f"unsupported dtype: {obj.dtype}")
    if isinstance(obj, np.ndarray):
        return {b"__ndarray__": True, b"data": obj.tobytes(), b"dtype": obj.dtype.str, b"shape": obj.shape}
    if isinstance(obj, np.generic):
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    return obj


def unpack_array(obj):
    if b"__ndarray__" in obj:
        return np.ndarray(buffer=obj[b"data"], dtype=np.dtype(obj[b"dtype"]), shape=obj[b"shape"])
    if b"__npgeneric__" in obj:
        return np.dtype(obj[b"dtype"]).type(obj[b"data"])
    return obj


def packb(value):
    return msgpack.packb(value, default=pack_array)


def unpackb(data):
    return msgpack.unpackb(data, object_hook=unpack_array)


# --- the client ------------------------------------------------------------------------------------
class ServerError(Exception):
    """The server answered with an error text (and closed the connection with code 1011)."""


class PolicyClient:
    """One connection to an openpi policy server; the server treats it as one episode."""

    def __init__(self, ws, metadata):
        self._ws = ws
        self.metadata = metadata

    @classmethod
    async def connect(cls, url):
        # openpi sends large frames uncompressed: no size limit, no permessage-deflate.
        ws = await websockets.connect(url, compression=None, max_size=None)
        return cls(ws, unpackb(await ws.recv()))

    async def infer(self, observation):
        await self._ws.send(packb(observation))
        reply = await self._ws.recv()
        if isinstance(reply, str):
            raise ServerError(reply)
        return unpackb(reply)

    async def close(self):
        await self._ws.close()


# --- observations of the simulated Lift-2 -----------------------------------------------------------
def camera_frame(view, step, size):
    """A synthetic table scene: grey table, a red cube that slides a little each step, uint8 [H, W, 3]."""
    img = np.full((size, size, 3), 110, dtype=np.uint8)
    img[size // 2 :, :] = (150, 120, 90)  # table top
    c = size // 8
    x = (size // 3 + 4 * step + 9 * view) % (size - c)
    y = size // 2 + c
    img[y : y + c, x : x + c] = (200, 30, 30)  # the cube
    return img


def lift2_observation(step, size, prompt, state):
    """The observation dict openpi servers read: state (robot units), images by camera name, prompt."""
    images = {name: camera_frame(i, step, size) for i, name in enumerate(LIFT2_CAMERAS)}
    return {"state": state, "images": images, "prompt": prompt}


def lift2_state(step):
    """Joint state in robot units: home, with the first joint of each arm turned a little per step."""
    state = LIFT2_HOME.copy()
    state[0] += 0.05 * step
    state[7] -= 0.05 * step
    return state


def plain(value):
    """A JSON-ready copy: arrays as lists, non-finite floats (JSON has none) as null."""
    if isinstance(value, (np.ndarray, np.generic)):
        return plain(value.tolist())
    if isinstance(value, dict):
        return {k.decode() if isinstance(k, bytes) else str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


async def run(args):
    report = {"url": args.url, "replies": []}
    say = (lambda *a: None) if args.json else print
    client = await PolicyClient.connect(args.url)
    report["metadata"] = plain(client.metadata)
    say(f"connected to {args.url}; server metadata:")
    for key, value in client.metadata.items():
        say(f"  {key}: {value}")
    override = None if args.state is None else np.array([float(v) for v in args.state.split(",")], np.float32)
    try:
        for step in range(args.requests):
            state = lift2_state(step) if override is None else override
            t0 = time.monotonic()
            reply = await client.infer(lift2_observation(step, args.size, args.prompt, state))
            ms = (time.monotonic() - t0) * 1000
            actions = reply["actions"]
            if not (isinstance(actions, np.ndarray) and actions.ndim == 2):
                say(f"request {step + 1}: malformed reply, actions = {actions!r}")
                report["error"] = "malformed reply"
                return 1, report
            reply_report = {"shape": list(actions.shape), "dtype": actions.dtype.str, "actions": plain(actions)}
            report["replies"].append(reply_report)
            say(
                f"request {step + 1}: action chunk {actions.shape[0]} x {actions.shape[1]} {actions.dtype} "
                f"in {ms:.0f} ms (server inference {reply['server_timing']['infer_ms']:.0f} ms)"
            )
            say(f"  first action: {np.array2string(actions[0], precision=3, suppress_small=True, max_line_width=200)}")
    except ServerError as e:
        report["error"] = str(e)
        print(f"server error: {e}", file=sys.stderr)
        return 2, report
    finally:
        await client.close()
    return 0, report


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="ws://127.0.0.1:8000", help="the server (default %(default)s)")
    p.add_argument("--requests", type=int, default=3, help="observations to send (default %(default)s)")
    p.add_argument("--size", type=int, default=64, help="camera images are SIZE x SIZE (default %(default)s)")
    p.add_argument("--prompt", default="pick up the red cube and put it in the bin")
    p.add_argument("--state", help="comma-separated joint state in robot units, sent instead of the scripted one")
    p.add_argument("--json", action="store_true", help="print one JSON report (metadata, every chunk) instead")
    args = p.parse_args()
    try:
        code, report = asyncio.run(run(args))
    except OSError as e:
        print(f"cannot reach {args.url} ({e}); is `vla-control serve` running?", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report))
    return code


if __name__ == "__main__":
    sys.exit(main())
