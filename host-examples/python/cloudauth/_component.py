"""Calls the cloudauth component from Python, through wasmtime-py.

wasmtime-py (PyPI ``wasmtime``, version 50) can call a component without
generated bindings: every export is looked up by name and called with Python
values. This module adds the three things a host wants on top of that:

* natural Python values: records are ``dict``s (keys as in WIT, ``-`` or
  ``_`` both accepted on the way in, ``_`` on the way out), variants are
  :class:`Variant` (``tag``, ``payload``) whatever wasmtime-py's own
  untagged shorthand would be, ``list<u8>`` is ``bytes``;
* WIT ``result<_, error>`` becomes a return value or a raised
  :class:`CloudauthError` carrying the error's kind and details;
* the ``session`` resource as a :class:`Session` object, and :func:`drive`,
  the loop that runs a session with host callbacks for HTTP and identity
  tokens.

The component imports nothing, so it is instantiated with an empty linker;
instantiation would fail if it ever imported something.

Usage::

    ca = Cloudauth()                      # target/cloudauth.wasm, or $CLOUDAUTH_WASM
    ca.resolve.resolve_registry("myreg.azurecr.io/app", None)
    ca.azure.entra_token_request(Variant("cloud", "azure-public"), tenant, client, scope, jwt)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import wasmtime
from wasmtime import component as wc
from wasmtime.component import Variant

__all__ = ["Cloudauth", "CloudauthError", "Session", "Variant", "drive", "default_wasm_path"]

#: The package and version of the WIT contract the exports live under.
WIT_PACKAGE = "cloudauth:auth"
WIT_VERSION = "0.1.0"


#: The component the wheel carries, beside this module.
PACKAGED_WASM = Path(__file__).resolve().parent / "cloudauth.wasm"


def default_wasm_path() -> Path:
    """``$CLOUDAUTH_WASM`` if set, else the component the installed package
    carries, else ``target/cloudauth.wasm`` of this repository (a checkout)."""
    env = os.environ.get("CLOUDAUTH_WASM")
    if env:
        return Path(env)
    if PACKAGED_WASM.is_file():
        return PACKAGED_WASM
    return Path(__file__).resolve().parents[3] / "target" / "cloudauth.wasm"


class CloudauthError(Exception):
    """A WIT ``error`` returned by the component.

    ``kind`` is the variant case (``invalid-input``, ``unsupported``,
    ``http-status``, ``malformed-response``). For ``http-status``,
    ``status`` and ``code`` (the service's own error code, or None) are set
    and ``message`` is the short description; for the others ``message`` is
    the payload string. Messages never contain secrets (the component's
    promise), so they are safe to print.
    """

    def __init__(self, kind: str, message: str, status: Optional[int] = None, code: Optional[str] = None):
        self.kind = kind
        self.message = message
        self.status = status
        self.code = code
        detail = f"{kind}: {message}"
        if status is not None:
            detail = f"{kind} {status}" + (f" ({code})" if code else "") + f": {message}"
        super().__init__(detail)

    @classmethod
    def from_variant(cls, error: Variant) -> "CloudauthError":
        """From a lifted WIT ``error`` (a :class:`Variant` with a lifted payload)."""
        if error.tag == "http-status":
            service: Any = error.payload
            return cls(error.tag, service["message"], status=service["status"], code=service["code"])
        return cls(error.tag, str(error.payload))


# --- Type-directed conversion between natural Python values and wasmtime-py's ---------------
#
# wasmtime-py represents a variant whose cases have distinct Python classes
# without a tag (e.g. `identity` is `None` for `controller` and a record for
# `service-account`). Callers should not need to know that, so values are
# converted by walking the WIT type: a `Variant` always goes in and comes out.


def _case_classes(ty: Optional[wc.ValType]) -> set[type]:
    classes: set[type] = set()
    if ty is None:
        classes.add(object)
    else:
        ty.add_classes(classes)
    return classes


def _is_tagged(ty: Any) -> bool:
    """Whether wasmtime-py represents this variant-like type with `Variant`
    objects: exactly when two cases share a Python class (its own rule)."""
    seen: set[type] = set()
    for _name, case_ty in ty._cases():
        case = _case_classes(case_ty)
        if case & seen:
            return True
        seen |= case
    return False


def _field(value: Any, name: str, optional: bool = False) -> Any:
    if not isinstance(value, dict):
        raise TypeError(f"expected a dict for a record, got {type(value).__name__}")
    for key in (name, name.replace("-", "_")):
        if key in value:
            return value[key]
    if optional:  # an `option<T>` field left out reads as none (e.g. options.rules)
        return None
    raise TypeError(f"record field {name!r} is missing")


def _lower(ty: wc.ValType, value: Any) -> Any:
    """Natural Python value -> the value wasmtime-py expects for `ty`."""
    if isinstance(ty, wc.RecordType):
        record = wc.Record()
        for name, field_ty in ty.fields:
            setattr(record, name, _lower(field_ty, _field(value, name, isinstance(field_ty, wc.OptionType))))
        return record
    if isinstance(ty, wc.ListType):
        if isinstance(ty.element, wc.U8):
            return bytes(value)
        return [_lower(ty.element, v) for v in value]
    if isinstance(ty, wc.TupleType):
        return tuple(_lower(t, v) for t, v in zip(ty.elements, value, strict=True))
    if isinstance(ty, wc.OptionType):
        return None if value is None else _lower(ty.payload, value)
    if isinstance(ty, (wc.VariantType, wc.ResultType)):
        if isinstance(value, str):  # a case without payload, by name
            value = Variant(value)
        if not isinstance(value, Variant):
            raise TypeError(f"expected a Variant, got {type(value).__name__}")
        cases = dict(ty._cases())
        if value.tag not in cases:
            raise TypeError(f"unknown case {value.tag!r}; expected one of {sorted(cases)}")
        case_ty = cases[value.tag]
        payload = None if case_ty is None else _lower(case_ty, value.payload)
        return Variant(value.tag, payload) if _is_tagged(ty) else payload
    return value


def _lift(ty: Optional[wc.ValType], value: Any) -> Any:
    """wasmtime-py's value of type `ty` -> natural Python value."""
    if ty is None:
        return value
    if isinstance(ty, wc.RecordType):
        return {name.replace("-", "_"): _lift(t, getattr(value, name)) for name, t in ty.fields}
    if isinstance(ty, wc.ListType):
        if isinstance(ty.element, wc.U8):
            return bytes(value)
        return [_lift(ty.element, v) for v in value]
    if isinstance(ty, wc.TupleType):
        return tuple(_lift(t, v) for t, v in zip(ty.elements, value, strict=True))
    if isinstance(ty, wc.OptionType):
        return None if value is None else _lift(ty.payload, value)
    if isinstance(ty, (wc.VariantType, wc.ResultType)):
        cases = ty._cases()
        if _is_tagged(ty):
            case_ty = dict(cases)[value.tag]
            return Variant(value.tag, None if case_ty is None else _lift(case_ty, value.payload))
        # Untagged: the case is the one whose class matches; a case without
        # payload (its class set is `object`) only matches what no other does.
        for name, case_ty in sorted(cases, key=lambda case: case[1] is None):
            if isinstance(value, tuple(_case_classes(case_ty))):
                return Variant(name, None if case_ty is None else _lift(case_ty, value))
        raise TypeError(f"value {value!r} matches no case")
    return value


# --- The component ----------------------------------------------------------------------------


class _Function:
    """One exported function: lowers its arguments, lifts its result, and
    turns a WIT `result` error into :class:`CloudauthError`."""

    def __init__(self, owner: "Cloudauth", func: wc.Func, name: str):
        self._owner = owner
        self._func = func
        self._name = name
        ftype = func.type(owner.store)
        self._params = [t for _n, t in ftype.params]
        self._result = ftype.result

    def __call__(self, *args: Any) -> Any:
        if len(args) != len(self._params):
            raise TypeError(f"{self._name} takes {len(self._params)} arguments, got {len(args)}")
        lowered = [_lower(t, a) for t, a in zip(self._params, args)]
        raw = self._func(self._owner.store, *lowered)
        value = _lift(self._result, raw)
        if isinstance(self._result, wc.ResultType):
            if value.tag == "err":
                raise CloudauthError.from_variant(value.payload)
            return value.payload
        return value


class _Interface:
    """The exports of one WIT interface, as attributes (``_`` for ``-``)."""

    def __init__(self, owner: "Cloudauth", name: str):
        self._owner = owner
        self._name = name
        self._index = owner._instance.get_export_index(owner.store, f"{WIT_PACKAGE}/{name}@{WIT_VERSION}")
        if self._index is None:
            raise LookupError(f"the component does not export interface {name}")
        self._functions: dict[str, _Function] = {}

    def function(self, wit_name: str) -> _Function:
        """The export named exactly as in WIT, e.g. ``[static]session.start``."""
        if wit_name not in self._functions:
            index = self._owner._instance.get_export_index(self._owner.store, wit_name, self._index)
            func = None if index is None else self._owner._instance.get_func(self._owner.store, index)
            if func is None:
                raise AttributeError(f"interface {self._name} has no function {wit_name}")
            self._functions[wit_name] = _Function(self._owner, func, f"{self._name}.{wit_name}")
        return self._functions[wit_name]

    def __getattr__(self, attr: str) -> _Function:
        if attr.startswith("_"):
            raise AttributeError(attr)
        return self.function(attr.replace("_", "-"))


_compiled_components: dict[tuple[str, int, int], tuple[wasmtime.Engine, wc.Component]] = {}


def _compiled(path: Path) -> tuple[wasmtime.Engine, wc.Component]:
    """The component compiled once per process (per file version): compiling
    takes seconds, instantiating milliseconds."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _compiled_components:
        engine = wasmtime.Engine()
        _compiled_components[key] = (engine, wc.Component.from_file(engine, str(path)))
    return _compiled_components[key]


class Cloudauth:
    """One instance of the component, in its own store.

    The component keeps state only in sessions and its credential cache, so
    one instance per host (or per thread: a store is not thread-safe) is the
    intended use.
    """

    INTERFACES = ("types", "resolve", "azure", "sigv4", "aws", "gcp", "kubernetes", "oci", "session", "policy")

    def __init__(self, wasm: Optional["os.PathLike[str] | str"] = None, engine: Optional[wasmtime.Engine] = None):
        path = Path(wasm) if wasm is not None else default_wasm_path()
        if engine is None:
            self.engine, self.component = _compiled(path)
        else:
            self.engine = engine
            self.component = wc.Component.from_file(self.engine, str(path))
        self.store = wasmtime.Store(self.engine)
        # An empty linker: the component imports nothing.
        self._instance = wc.Linker(self.engine).instantiate(self.store, self.component)
        self._interfaces: dict[str, _Interface] = {}

    def interface(self, name: str) -> _Interface:
        if name not in self._interfaces:
            self._interfaces[name] = _Interface(self, name)
        return self._interfaces[name]

    def __getattr__(self, attr: str) -> _Interface:
        if attr in Cloudauth.INTERFACES:
            return self.interface(attr)
        raise AttributeError(attr)

    def start_session(self, request: dict[str, Any]) -> "Session":
        """``session.start``: raises :class:`CloudauthError` for a bad request."""
        handle = self.interface("session").function("[static]session.start")(request)
        return Session(self, handle)

    def import_count(self) -> int:
        """How many imports the component declares (it must be 0)."""
        return len(self.component.type.imports(self.engine))


class Session:
    """A ``session`` resource: one credential flow. Close it (or use ``with``)
    to free it in the component."""

    def __init__(self, owner: Cloudauth, handle: wc.ResourceAny):
        self._owner = owner
        self._handle: Optional[wc.ResourceAny] = handle

    def _method(self, name: str, *args: Any) -> Any:
        if self._handle is None:
            raise ValueError("the session is closed")
        return self._owner.interface("session").function(f"[method]session.{name}")(self._handle, *args)

    def next(self) -> Variant:
        """The current step: ``send-http``, ``fetch-identity-token``, ``read-file``, ``done`` or ``failed``."""
        step: Variant = self._method("next")
        return step

    def receive_http(self, response: Mapping[str, Any], now: int) -> None:
        self._method("receive-http", response, now)

    def receive_identity_token(self, token: str, now: int) -> None:
        self._method("receive-identity-token", token, now)

    def receive_file(self, contents: Optional[bytes], now: int) -> None:
        """Hands over the file of a ``read-file`` step; ``None`` when it does not exist."""
        self._method("receive-file", contents, now)

    def cache_key(self) -> str:
        return str(self._method("cache-key"))

    def from_cache(self) -> bool:
        return bool(self._method("from-cache"))

    def close(self) -> None:
        if self._handle is not None:
            handle, self._handle = self._handle, None
            handle.drop(self._owner.store)

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


#: The most steps a flow may take before :func:`drive` gives up. The longest
#: real flow (token file, STS, impersonation, registry exchange) has fewer
#: than ten; a loop means a bug.
MAX_STEPS = 32


def drive(
    session: Session,
    send_http: Callable[[Any], Mapping[str, Any]],
    fetch_identity_token: Callable[[Any], str],
    now: Callable[[], int],
    max_steps: int = MAX_STEPS,
    read_file: Optional[Callable[[str], Optional[bytes]]] = None,
) -> Variant:
    """Runs a session to its end and returns the ``credentials`` variant.

    ``send_http(request) -> response`` performs one HTTP exchange,
    ``fetch_identity_token(request) -> token`` fetches an identity token and
    ``now()`` gives the current Unix time. ``read_file(path) -> bytes | None``
    reads a file the flow names (``None``: it does not exist); by default the
    host's own file system. A ``failed`` step, or an error from handing a
    result over, raises :class:`CloudauthError`.
    """
    read = read_file or _read_file
    for _ in range(max_steps):
        step = session.next()
        payload: Any = step.payload
        if step.tag == "done":
            result: Variant = payload
            return result
        if step.tag == "failed":
            raise CloudauthError.from_variant(payload)
        if step.tag == "send-http":
            session.receive_http(send_http(payload), now())
        elif step.tag == "fetch-identity-token":
            session.receive_identity_token(fetch_identity_token(payload), now())
        elif step.tag == "read-file":
            session.receive_file(read(payload), now())
        else:
            raise RuntimeError(f"unknown step {step.tag}")
    raise RuntimeError(f"the session did not finish within {max_steps} steps")


def _read_file(path: str) -> Optional[bytes]:
    """The file's bytes, or ``None`` when it does not exist (an answer the
    flow takes); any other read error propagates."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None
