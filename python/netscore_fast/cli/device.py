"""`netscore-fast device measure [MODELS... | --space nasbench201] [--threads N] --out device.json`: this
machine's device profile (our kernels timed at every distinct layer; resumable), and `netscore-fast device
predict --profile device.json MODELS...`: zero-shot ms per inference from a profile."""
from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    """The `device` command and its subcommands (called by cli/__init__.py's build_parser)."""
    d = sub.add_parser("device", help="device profiles: measure this machine, predict latency from a profile")
    dsub = d.add_subparsers(dest="device_command", required=True)
    m = dsub.add_parser("measure", help="time every distinct layer of models or a search space with our kernels")
    m.add_argument("models", nargs="*", metavar="MODEL", help="ONNX file, directory or glob")
    m.add_argument("--space", choices=["nasbench201"], help="every network of a search space")
    m.add_argument("--dataset", action="append", default=None,
                   help="with --space nasbench201: cifar10, cifar100, ImageNet16-120 (repeatable; default all)")
    m.add_argument("--threads", type=int, default=1, help="kernel threads of every timing (default 1)")
    m.add_argument("--min-time", type=float, default=0.1, help="seconds of timing per configuration")
    m.add_argument("--out", required=True, help="the profile (JSON); an existing one is completed, not redone")
    m.add_argument("--no-progress", action="store_true", help="no progress bar")
    p = dsub.add_parser("predict", help="zero-shot ms per inference of models from a device profile")
    p.add_argument("models", nargs="+", metavar="MODEL", help="ONNX file, directory or glob")
    p.add_argument("--profile", required=True, help="a device profile from `netscore-fast device measure`")
    d.set_defaults(handler="device")


def run(args) -> int:
    from .. import device
    from .._sources import expand_models
    if args.device_command == "measure":
        if not args.models and not args.space:
            raise ValueError("device measure needs MODEL arguments or --space nasbench201")
        models = expand_models(args.models) if args.models else None
        profile = device.measure(models, space=args.space, datasets=args.dataset, threads=max(1, args.threads),
                                 out=args.out, min_time=args.min_time,
                                 progress=False if args.no_progress else None)
        m = profile.machine
        print(f"{m.get('model', '?')} | ISA {m.get('isa_active', '?')} | {profile.data['threads']} thread(s) | "
              f"{len(profile.configs)} layer configurations, {len(profile.curves)} curve points | "
              f"per layer {profile.per_layer_s * 1e6:.2f} us, per inference {profile.per_inference_s * 1e6:.1f} us"
              f" | measured in {profile.data['measure_time_s']:.1f} s")
        print(f"wrote {args.out}")
        return 0
    profile = device.load(args.profile)
    if not isinstance(profile, device.DeviceProfile):
        raise ValueError(f"{args.profile}: a calibrated model, not a device profile (use profile --device)")
    models = expand_models(args.models)
    details = profile.predict_details(models)
    for name, ms in zip(details["names"], details["latency_ms"]):
        print(f"{ms:12.4f} ms  {name}")
    for name, message in details["errors"].items():
        print(f"error: {message}")
    return 0 if not details["errors"] else 2
