"""What the kubelet says: Go durations, image references, pull and config errors, eviction.

The wording is the real kubelet's and containerd's, so the readiness rules (and the
people reading a verdict) see exactly what a production node would report.
"""

from __future__ import annotations

EVICTION_MESSAGE = (
    "The node was low on resource: memory. Threshold quantity: 100Mi, available: 94812Ki. "
    "Container {container} was using 1460308Ki, request is 0, has larger consumption of memory. "
)


def go_duration(value: float) -> str:
    """Go's ``time.Duration.String()`` for the durations the kubelet prints (10s, 1m20s, 412ms)."""
    if value < 1:
        millis = round(value * 1000, 3)
        return f"{millis:g}ms"
    total = round(value, 3)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{text}"
    if minutes:
        return f"{int(minutes)}m{text}"
    return text


def normalize_image(image: str) -> str:
    """The fully qualified reference containerd reports (``docker.io/library/nginx:1.27``)."""
    name = image
    last = name.rsplit("/", 1)[-1]
    if "@" not in name and ":" not in last:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    return name


def image_error_message(kind: str, image: str) -> tuple[str, str]:
    """(waiting reason, message) the kubelet shows for a failed pull of ``image``."""
    ref = normalize_image(image)
    repo = ref.split("@")[0].rsplit(":", 1)[0]
    if kind == "invalid":
        return (
            "InvalidImageName",
            f'Failed to apply default image tag "{image}": couldn\'t parse image name '
            f'"{image}": invalid reference format',
        )
    if kind == "never-pull":
        return (
            "ErrImageNeverPull",
            f'Container image "{image}" is not present with pull policy of Never',
        )
    prefix = f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}"'
    details = {
        "not-found": f"rpc error: code = NotFound desc = {prefix}: {ref}: not found",
        "unauthorized": (
            f"rpc error: code = Unknown desc = {prefix}: pull access denied, repository does "
            "not exist or may require authorization: server message: insufficient_scope: "
            "authorization failed"
        ),
        "rate-limit": (
            f"rpc error: code = Unknown desc = {prefix}: unexpected status from HEAD request to "
            f"https://registry-1.docker.io/v2/{repo.removeprefix('docker.io/')}/manifests/"
            f"{ref.rsplit(':', 1)[-1]}: 429 Too Many Requests - Server message: "
            "toomanyrequests: You have reached your pull rate limit. You may increase the limit "
            "by authenticating and upgrading: https://www.docker.com/increase-rate-limit"
        ),
        "timeout": (
            f"rpc error: code = DeadlineExceeded desc = {prefix}: failed to do request: Head "
            f'"https://registry-1.docker.io/v2/{repo.removeprefix("docker.io/")}/manifests/'
            f'{ref.rsplit(":", 1)[-1]}": dial tcp 54.236.113.205:443: i/o timeout'
        ),
    }
    return "ErrImagePull", details[kind]


def config_error_message(spec: str) -> str:
    kind, sep, name = spec.partition(":")
    if sep and kind in ("secret", "configmap"):
        return f'{kind} "{name}" not found'
    return spec
