"""Load pins.yaml into the model: strict, with every error at its file:line:col.

    load_config(path) -> Config

The YAML is composed into nodes (which keep their positions) and read against the
declarations in `pingen.config.schema`. Nothing is silently ignored: duplicate keys,
unknown keys (with a "did you mean"), wrong types and every rule of docs/pins-yaml.md are
errors. Independent errors are collected and reported together.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pingen.config import schema
from pingen.config.schema import Field, Kind, Section
from pingen.confine import Repository, confine, confine_output, file_key, repository_of
from pingen.errors import ConfigError, Diagnostic, Location, raise_together
from pingen.hosts import idna2003_warning, normalize_host, parse_address
from pingen.model import (
    Address,
    Config,
    Domain,
    Level,
    Output,
    Pin,
    PinSet,
    PinSource,
    Target,
    Trust,
    frozen_mapping,
)
from pingen.pki.sources import MAX_KEY_FILE_BYTES
from pingen.spki import KeyType, normalize_pin

if TYPE_CHECKING:
    import yaml

MAX_CONFIG_BYTES = 1024 * 1024
MAX_NODES = 200_000  # far above any real pins.yaml; stops alias bombs early
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A pin source resolved: its hash, the level, label and key type it implies (None: unknown).
_Resolved = tuple[str, Level | None, str | None, KeyType | None]
_PRIVATE_KEY_WARNING = (
    "{file} holds a private key: a private key does not belong in an app repository. "
    "Pin its public key instead (`openssl pkey -in {file} -pubout`), and keep the "
    "private key offline"
)


def load_config(
    path: Path | str, *, today: dt.date | None = None, repository: Repository | None = None
) -> Config:
    """Read and validate pins.yaml. Raises ConfigError (exit 2) on any problem.

    `today` decides which expiry dates are in the past (tests pass a fixed one).
    `repository`: where the paths it names may lead (default: the git work tree
    holding it, else its folder; `diff --base` passes its copy of the old revision).
    """
    path = Path(path)
    _refuse_linked_out(path, repository)
    return load_config_text(_read_text(path), path, today=today, repository=repository)


def _refuse_linked_out(path: Path, repository: Repository | None) -> None:
    """pins.yaml itself obeys pingen.confine: a committed `pins.yaml -> .git/config` or a
    link out of the repository is refused before it is read."""
    try:
        if not path.is_symlink():
            return
    except (OSError, ValueError):  # a name too long, a NUL: _read_text says so
        return
    try:
        confine(path.name, path.absolute().parent, repository or repository_of(path))
    except ValueError as error:
        raise ConfigError(f"a symbolic link that {error}", Location(path)) from None


def load_config_text(
    text: str, path: Path, *, today: dt.date | None = None, repository: Repository | None = None
) -> Config:
    """`load_config` on text said to be `path`'s (an edit before it is written)."""
    root = _compose(text, path)
    reader = _Reader(path, today or dt.date.today(), repository)
    config = reader.config(root)
    raise_together(reader.errors)
    assert config is not None  # no errors: the reader built it
    return config


def _read_text(path: Path) -> str:
    where = Location(path)
    try:
        status = path.stat()
        # Opening a FIFO blocks until someone writes, and /dev/zero never ends.
        if not stat.S_ISREG(status.st_mode) and not stat.S_ISDIR(status.st_mode):
            raise ConfigError(
                "not a regular file (a device, FIFO or socket); pass the pins.yaml file with -c",
                where,
            )
        if status.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"the file is {status.st_size:,} bytes; pins.yaml is capped at 1 MiB", where
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            "no such file; create one (`pingen init HOST`) or pass -c PATH", where
        ) from None
    except IsADirectoryError:
        raise ConfigError("is a folder; pass the pins.yaml file with -c", where) from None
    except OSError as error:
        raise ConfigError(f"cannot read it: {error.strerror}", where) from None
    except ValueError:  # a NUL character in the name
        raise ConfigError("a file name cannot hold a NUL character", where) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"is not UTF-8 text (byte {error.start}); save it as UTF-8",
            _location_of_offset(path, data, error.start),
        ) from None


def _wildcard_hint(text: str, mark: yaml.Mark | None) -> str:
    """`*.example.com:` unquoted is a YAML alias, whose error says nothing of hosts."""
    lines = text.splitlines()
    if mark is None or mark.line >= len(lines):
        return ""
    if not lines[mark.line].lstrip(" -").startswith("*."):
        return ""
    return (
        "; a leading `*` starts a YAML alias, and a wildcard host is not allowed "
        "anyway: pin the parent domain with `include_subdomains: true`"
    )


def _location_of_offset(path: Path, data: bytes, offset: int) -> Location:
    """The line and column (in bytes) of byte `offset` of `data`."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return Location(path, data.count(b"\n", 0, offset) + 1, offset - line_start + 1)


MAX_NESTING = 100  # levels; a pins.yaml needs about six


def _refuse_deep_nesting(text: str, path: Path) -> None:
    """libyaml's composer recurses on the C stack: 100,000 `[` crashed it (SIGSEGV), so
    deep nesting is refused before composing, at the place it passes MAX_NESTING. An
    upper bound: the running depth of flow brackets (quotes ignored), and a line's
    indentation plus its `- `/`? ` markers (each block level takes a column or more)."""
    depth = 0
    for bracket in re.finditer(r"[\[\]{}]", text):
        depth = depth + 1 if bracket.group() in "[{" else max(depth - 1, 0)
        if depth > MAX_NESTING:
            _nested_too_deeply(text, path, bracket.start())
    block = re.compile(r"^[ \t]*(?:[-?:][ \t]+)*", re.MULTILINE)
    for match in block.finditer(text):
        if len(match.group()) > MAX_NESTING * 2:
            _nested_too_deeply(text, path, match.start())


def _nested_too_deeply(text: str, path: Path, offset: int) -> None:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    raise ConfigError(
        f"YAML nested more than {MAX_NESTING} levels deep; a pins.yaml needs about six",
        Location(path, line, column),
    )


def _compose(text: str, path: Path) -> yaml.Node:
    import yaml

    # libyaml's composer is ten times faster and keeps positions just the same.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    _refuse_deep_nesting(text, path)
    try:
        node = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
        problem = error.problem or error.context or "invalid YAML"
        raise ConfigError(f"YAML syntax: {problem}{_wildcard_hint(text, mark)}", where) from None
    except yaml.reader.ReaderError as error:
        # Not a MarkedYAMLError: it has an offset (libyaml's counts UTF-8 bytes).
        data = text.encode()
        offset = (
            error.position
            if loader is not yaml.SafeLoader
            else len(text[: error.position].encode())
        )
        raise ConfigError(
            f"character #x{error.character:04x} is not allowed in YAML ({error.reason}); "
            "remove it or write it as an escape in a double-quoted string",
            _location_of_offset(path, data, offset),
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"YAML: {error}", Location(path, 1, 1)) from None
    except RecursionError:
        raise ConfigError("YAML nested too deeply", Location(path)) from None
    if node is None:
        raise ConfigError(
            "the file is empty; it needs `version: 1` and `domains:`", Location(path, 1, 1)
        )
    return node


@dataclass
class _Value:
    """A validated value and the node it came from (for locations)."""

    value: Any
    node: yaml.Node


class _Fields(dict[str, _Value]):
    """The valid values of a mapping; `present` also names keys whose value was wrong."""

    present: frozenset[str] = frozenset()


class _Fatal(Exception):
    """Stop reading: the rest would only repeat the same error."""


class _Reader:
    def __init__(self, path: Path, today: dt.date, repository: Repository | None) -> None:
        self.path = path  # as the user wrote it: messages name it so
        self.root = path.absolute().parent
        self.repository = repository or repository_of(path)
        self.inputs: set[Path] = {Path(os.path.realpath(path))}  # every file read (real paths)
        self.today = today
        self.errors: list[ConfigError] = []
        self.warnings: list[Diagnostic] = []
        self.nodes_seen = 0
        self.catalog: Path | None = None  # trust.catalog, once read

    # -- reporting -------------------------------------------------------
    def where(self, node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(self.path, mark.line + 1, mark.column + 1)

    def error(self, node: yaml.Node, message: str) -> None:
        self.errors.append(ConfigError(message, self.where(node)))

    def warn(self, node: yaml.Node, message: str) -> None:
        self.warnings.append(Diagnostic(message, self.where(node)))

    def count(self, node: yaml.Node) -> None:
        self.nodes_seen += 1
        if self.nodes_seen > MAX_NODES:
            self.error(node, f"more than {MAX_NODES:,} YAML nodes (aliases expanding?)")
            raise _Fatal

    # -- generic structure -----------------------------------------------
    def mapping(self, node: yaml.Node, section: Section) -> _Fields | None:
        """Check a mapping against a section: types, unknown, duplicate and missing keys."""
        pairs = self.pairs(node, section.name)
        if pairs is None:
            return None
        values = _Fields()
        values.present = frozenset(key for key, _, _ in pairs)
        for key, key_node, value_node in pairs:
            spec = section.fields.get(key)
            if spec is None:
                self.error(key_node, self.unknown_key(key, section))
                continue
            value = self.value(value_node, spec, key)
            if value is not None:
                values[key] = _Value(value, value_node)
        for key, spec in section.fields.items():
            if spec.required and key not in values.present:
                self.error(node, f"{section.name} is missing `{key}:` ({spec.description})")
        return values

    def pairs(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]] | None:
        import yaml

        self.count(node)
        if not isinstance(node, yaml.MappingNode):
            self.error(
                node, f"{what} must be a mapping of `key: value` lines, not {_describe(node)}"
            )
            return None
        seen: dict[str, yaml.Node] = {}
        pairs: list[tuple[str, yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.error(
                    key_node,
                    "YAML merge keys (`<<`) are not supported; write the "
                    "keys out, or put shared settings in `defaults:`",
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_node, f"keys in {what} must be plain names")
                continue
            key = key_node.value
            if key in seen:
                first = seen[key].start_mark.line + 1
                self.error(
                    key_node,
                    f"duplicate key `{key}` in {what} (first on line "
                    f"{first}); YAML would silently keep only the last one",
                )
                continue
            seen[key] = key_node
            pairs.append((str(key), key_node, value_node))
        return pairs

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node] | None:
        import yaml

        self.count(node)
        if not isinstance(node, yaml.SequenceNode):
            self.error(
                node, f"{what} must be a list (lines starting with `- `), not {_describe(node)}"
            )
            return None
        return list(node.value)

    def unknown_key(self, key: str, section: Section) -> str:
        known = sorted(section.fields)
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(known)}"
        if section.name == "output" and key in schema.ALL_OUTPUT_KEYS:
            owners = [kind for kind, options in schema.OUTPUT_OPTIONS.items() if key in options]
            options = [f"`{k}`" for k in section.fields if k not in schema.OUTPUT_COMMON]
            takes = f"this one takes {', '.join(options)}" if options else "this one takes none"
            named = ", ".join(owners[:-1]) + " and " + owners[-1] if len(owners) > 1 else owners[0]
            outputs = named + (" outputs" if len(owners) > 1 else " output")
            return f"`{key}` is an option of the {outputs}, not of this one; {takes}"
        return f"unknown key `{key}` in {section.name}; {hint}"

    def value(self, node: yaml.Node, spec: Field, key: str) -> Any:
        return self.readers[spec.kind](node, spec, key)

    @cached_property
    def readers(self) -> dict[Kind, Callable[[yaml.Node, Field, str], Any]]:
        """The reader of each kind of value, made once (not per value: a 500-domain
        pins.yaml has 3,500 values)."""
        return {
            Kind.BOOL: self.boolean,
            Kind.STRING: self.string,
            Kind.INTEGER: self.integer,
            Kind.EXPIRY: self.expiry,
            Kind.STRING_LIST: self.string_list,
            # a SECTION spec always names its section (Spec's declarations); the field is
            # optional only for the other kinds
            Kind.SECTION: lambda n, s, k: self.mapping(n, s.section),  # type: ignore[arg-type]
            Kind.SECTION_LIST: lambda n, s, k: self.sequence(n, f"`{k}`"),
            Kind.SECTION_MAP: lambda n, s, k: self.pairs(n, f"`{k}`"),
        }

    def scalar(self, node: yaml.Node, key: str, expected: str) -> str | None:
        import yaml

        self.count(node)
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            self.error(node, f"`{key}` must be {expected}, not {_describe(node)}")
            return None
        return str(node.value)

    def boolean(self, node: yaml.Node, spec: Field, key: str) -> bool | None:
        text = self.scalar(node, key, "true or false")
        if text is None:
            return None
        if text.lower() not in ("true", "false") or node.tag == "tag:yaml.org,2002:str":
            self.error(node, f"`{key}` must be true or false, not {text!r}")
            return None
        return text.lower() == "true"

    def string(self, node: yaml.Node, spec: Field, key: str) -> str | None:
        text = self.scalar(node, key, "a text value")
        if text is None:
            return None
        if spec.choices and text not in spec.choices:
            close = difflib.get_close_matches(text, spec.choices, n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            self.error(
                node,
                f"`{key}: {text}` is not one of {', '.join(spec.choices)}; {hint}".rstrip(
                    "; "
                ).rstrip(),
            )
            return None
        return text

    def integer(self, node: yaml.Node, spec: Field, key: str) -> int | None:
        text = self.scalar(node, key, "a whole number")
        if text is None:
            return None
        if node.tag != "tag:yaml.org,2002:int" or not text.isdigit():
            self.error(node, f"`{key}` must be a whole number, not {text[:40]!r}")
            return None
        if len(text) > 18:  # int() refuses over 4,300 digits; no setting needs 19
            self.error(node, f"`{key}` is far too large a number ({len(text)} digits)")
            return None
        return int(text)

    def expiry(self, node: yaml.Node, spec: Field, key: str) -> dt.date | str | None:
        text = self.scalar(node, key, "a date (yyyy-mm-dd) or `never`")
        if text is None:
            return None
        if text == "never":
            return "never"
        if not _ISO_DATE.match(text):
            self.error(
                node,
                f"`{key}: {text}` is not a date; write yyyy-mm-dd (e.g. 2027-06-30) or `never`",
            )
            return None
        try:
            date = dt.date.fromisoformat(text)
        except ValueError:
            self.error(node, f"`{key}: {text}` is not a real calendar date")
            return None
        if date <= self.today:
            self.error(
                node,
                f"`{key}: {text}` is not in the future (today is "
                f"{self.today.isoformat()}); after it the apps stop pinning. "
                "Choose a later date or `never`",
            )
            return None
        return date

    def string_list(self, node: yaml.Node, spec: Field, key: str) -> tuple[str, ...] | None:
        items = self.sequence(node, f"`{key}`")
        if items is None:
            return None
        texts = [self.scalar(item, key, "a list of text values") for item in items]
        if any(t is None for t in texts):
            return None
        return tuple(t for t in texts if t is not None)

    # -- the config ------------------------------------------------------
    def config(self, root: yaml.Node) -> Config | None:
        try:
            return self._config(root)
        except _Fatal:
            return None

    def _config(self, root: yaml.Node) -> Config | None:
        top = self.mapping(root, schema.CONFIG)
        if top is None:
            return None
        version = top.get("version")
        if version is not None and version.value != schema.VERSION:
            self.error(
                version.node,
                f"`version: {version.value}` is not supported; this "
                f"pingen reads version {schema.VERSION}",
            )
            return None
        defaults = top["defaults"].value if "defaults" in top else {}
        trust = self.trust(top["trust"].value if "trust" in top else {})
        domains = self.domains(top.get("domains"), defaults)
        outputs = self.outputs(top.get("outputs"))
        self.refuse_outputs_over_inputs(outputs)
        targets = self.targets(top.get("targets"))
        if self.errors or version is None:
            return None
        return Config(
            path=self.path.absolute(),
            version=version.value,
            domains=tuple(domains),
            outputs=tuple(outputs),
            trust=trust,
            warnings=tuple(self.warnings),
            repository=self.repository,
            inputs=frozenset(self.inputs),
            targets=tuple(targets),
        )

    def confined(self, value: _Value, what: str) -> Path | None:
        """The real path of a file pins.yaml names, inside the repository (pingen.confine),
        recorded as an input; None (with the error) when it leads elsewhere."""
        try:
            path = confine(value.value, self.root, self.repository)
        except ValueError as error:
            self.error(value.node, f"{what} {value.value!r} {error}")
            return None
        self.inputs.add(path)
        return path

    def trust(self, values: dict[str, _Value]) -> Trust:
        paths = {key: self.existing_file(key, v) for key, v in values.items()}
        catalog = paths.get("catalog")
        if catalog is not None:
            from pingen.pki.catalog import CatalogError, load_catalog

            try:
                self.inputs.update(load_catalog(catalog).files)
            except CatalogError as error:
                self.error(values["catalog"].node, f"`catalog`: {error}")
                catalog = None
        self.catalog = catalog
        return Trust(ca_file=paths.get("ca_file"), catalog=catalog)

    def existing_file(self, key: str, value: _Value) -> Path | None:
        path = self.confined(value, f"`trust.{key}`")
        if path is None:
            return None
        try:
            is_file = path.is_file()
        except OSError as error:  # e.g. a name too long for the file system
            self.error(value.node, f"{value.value}: cannot read it ({error.strerror})")
            return None
        if not is_file:
            problem = "not a regular file" if path.exists() else "no such file"
            self.error(
                value.node, f"{value.value}: {problem} (paths are relative to {self.path.name})"
            )
            return None
        if path.stat().st_size > MAX_KEY_FILE_BYTES:  # read like a `file:` pin
            self.error(
                value.node,
                f"{value.value}: larger than 1 MiB; that is no "
                f"{'CA file' if key == 'ca_file' else 'CA catalog'}",
            )
            return None
        return path

    # -- domains ---------------------------------------------------------
    def domains(self, value: _Value | None, defaults: dict[str, _Value]) -> list[Domain]:
        if value is None or value.value is None:
            return []
        if not value.value:
            self.error(value.node, "`domains:` is empty; add at least one host with its pins")
        domains: list[Domain] = []
        hosts: dict[str, yaml.Node] = {}
        for key, key_node, domain_node in value.value:
            if key in schema.DOMAIN.fields:  # a domain's setting, indented one level short
                self.error(
                    key_node,
                    f"`{key}:` sits directly under `domains:`, where each "
                    "key is a host name; indent it under its domain (two "
                    "more spaces, below the host's line)",
                )
                continue
            host = self.host(key, key_node)
            if host is None:
                continue
            if host in hosts:
                line = hosts[host].start_mark.line + 1
                self.error(
                    key_node,
                    f"`{key}` is the same host as the one on line {line} "
                    f"({host}); each host may appear once",
                )
                continue
            hosts[host] = key_node
            domain = self.domain(host, key_node, domain_node, defaults)
            if domain is not None:
                domains.append(domain)
        return domains

    def host(self, key: str, node: yaml.Node) -> str | None:
        try:
            host = normalize_host(key)
        except ValueError as error:
            self.error(node, str(error))
            return None
        legacy = idna2003_warning(host)
        if legacy:
            self.warn(node, legacy)
        return host

    def domain(
        self, host: str, key_node: yaml.Node, node: yaml.Node, defaults: dict[str, _Value]
    ) -> Domain | None:
        own = self.mapping(node, schema.DOMAIN)
        if own is None:
            return None
        settings = {**defaults, **own}
        expires = settings.get("expires")
        # a wrong `expires:` (here or in defaults) has its own error already
        written = own.present | getattr(defaults, "present", frozenset(defaults))
        if expires is None and "expires" not in written:
            self.error(
                key_node,
                f"{host} has no `expires:`; add `expires: yyyy-mm-dd` "
                "(pins stop being enforced after it) or `expires: never` "
                "to the domain or to `defaults:`",
            )
        pins = self.pins(own.get("pins"), host)  # judged even then: every error at once
        connect = self.connect(own["connect"]) if "connect" in own else None
        report_uris = self.report_uris(settings.get("report_uris"))
        if pins is None or expires is None:
            return None

        def setting(key: str) -> Any:
            return settings[key].value if key in settings else schema.DOMAIN.fields[key].default

        return Domain(
            host=host,
            include_subdomains=setting("include_subdomains"),
            enforce=setting("enforce"),
            pin_set=PinSet(pins, None if expires.value == "never" else expires.value),
            report_uris=report_uris,
            connect=connect,
            provider=setting("provider"),
            allow_no_backup=setting("allow_no_backup"),
            location=self.where(key_node),
        )

    def report_uris(self, value: _Value | None) -> tuple[str, ...]:
        if value is None:
            return ()
        for uri in value.value:
            if not re.match(r"^https?://[^\s/]+", uri):
                self.error(value.node, f"report URI {uri!r} is not an http(s) URL")
        return tuple(value.value)

    def connect(self, value: _Value) -> Address | None:
        try:
            return parse_address(value.value)
        except ValueError as error:
            self.error(value.node, f"`connect: {value.value}`: {error}")
            return None

    # -- pins ------------------------------------------------------------
    def pins(self, value: _Value | None, host: str) -> tuple[Pin, ...] | None:
        if value is None:
            return None
        pins: list[Pin] = []
        seen: dict[str, yaml.Node] = {}
        ok = True
        for pin_node in value.value:
            pin = self.pin(pin_node)
            if pin is None:
                ok = False
                continue
            if pin.sha256 in seen:
                line = seen[pin.sha256].start_mark.line + 1
                self.error(
                    pin_node,
                    f"this pin ({pin.sha256}) is already listed for {host} "
                    f"on line {line}; remove one",
                )
                ok = False
                continue
            seen[pin.sha256] = pin_node
            pins.append(pin)
        if ok and len(pins) < schema.DOMAIN.fields["pins"].min_items:
            self.error(
                value.node,
                f"{host} has {len(pins)} pin(s); at least two are needed: "
                "the live key and a backup (`pingen keygen NAME` makes one), "
                "or pins of two CAs that can issue for it",
            )
            return None
        return tuple(pins) if ok else None

    def pin(self, node: yaml.Node) -> Pin | None:
        fields = self.mapping(node, schema.PIN)
        if fields is None:
            return None
        sources = [s for s in schema.PIN_SOURCES if s in fields]
        if len(sources) != 1:
            given = ", ".join(f"`{s}`" for s in sources) or "none"
            self.error(
                node,
                f"a pin needs exactly one of `sha256:`, `file:`, `root:` or "
                f"`intermediate:` (given: {given})",
            )
            return None
        source = PinSource(sources[0])
        found = self.resolve_source(source, fields[source.value])
        if found is None:
            return None
        sha256, inferred_level, default_label, known_key = found
        key = self.pin_key(fields.get("key"), known_key, source)
        level = Level(fields["level"].value) if "level" in fields else inferred_level
        label = fields["label"].value if "label" in fields else default_label
        return Pin(
            sha256=sha256,
            source=source,
            label=label,
            level=level,
            backup=fields["backup"].value if "backup" in fields else False,
            location=self.where(node),
            key=key,
        )

    def pin_key(
        self, value: _Value | None, known: KeyType | None, source: PinSource
    ) -> KeyType | None:
        """`key:` states a sha256 pin's key type; where the source tells, it must agree."""
        if value is None:
            return known
        try:
            stated = KeyType.parse(value.value)
        except ValueError as error:
            self.error(value.node, f"`key:` {error}")
            return known
        if known is not None and (known.algorithm, known.bits, known.curve) != (
            stated.algorithm,
            stated.bits,
            stated.curve,
        ):
            self.error(
                value.node,
                f"`key: {value.value}` contradicts the {source.value}, whose "
                f"key is {known.name}; remove `key:` (the {source.value} "
                "tells)",
            )
        return known or stated

    def resolve_source(self, source: PinSource, value: _Value) -> _Resolved | None:
        text: str = value.value
        if source is PinSource.SHA256:
            try:
                return normalize_pin(text), None, None, None
            except ValueError as error:
                self.error(value.node, str(error))
                return None
        if source is PinSource.FILE:
            return self.file_pin(value)
        return self.catalog_pin(source, value)

    def file_pin(self, value: _Value) -> _Resolved | None:
        from pingen.pki.sources import SourceError, read_key_file

        path = self.confined(value, "`file:`")
        if path is None:
            return None
        try:
            keys = read_key_file(path)
        except SourceError as error:
            message = str(error).replace(str(path), value.value, 1)
            if message.endswith(": no such file"):  # as for the other files pins.yaml names
                message += f" (paths are relative to {self.path.name})"
            self.error(value.node, message)
            return None
        if len(keys) > 1:
            listing = "; ".join(f"{k.subject or k.kind}: sha256 {k.sha256}" for k in keys)
            self.error(
                value.node,
                f"{value.value} holds {len(keys)} certificates; a pin names "
                f"one key. Use `sha256:` with the one you mean: {listing}",
            )
            return None
        key = keys[0]
        if key.is_private_key:
            self.warn(value.node, _PRIVATE_KEY_WARNING.format(file=value.value))
        label = key.subject or PurePosixPath(value.value).name
        return key.sha256, key.level, label, key.key

    def catalog_pin(self, source: PinSource, value: _Value) -> _Resolved | None:
        from pingen.pki import catalog
        from pingen.pki.sources import common_name
        from pingen.spki import key_type_of, pin_of_certificate

        lookups = {
            PinSource.ROOT: catalog.lookup_root,
            PinSource.INTERMEDIATE: catalog.lookup_intermediate,
        }
        try:
            cert = lookups[source](value.value, self.catalog)
        except LookupError as error:
            message = str(error.args[0]) if error.args else str(error)
            other = PinSource.INTERMEDIATE if source is PinSource.ROOT else PinSource.ROOT
            try:  # the name of the other level: say which key it belongs under
                lookups[other](value.value, self.catalog)
            except LookupError:
                pass
            else:
                message = (
                    f"{value.value!r} is {_A_LEVEL[other]}, not {_A_LEVEL[source]}: "
                    f"write `{other.value}: {value.value}`"
                )
            self.error(value.node, message)
            return None
        level = Level.ROOT if source is PinSource.ROOT else Level.INTERMEDIATE
        key = key_type_of(cert.public_key())
        return pin_of_certificate(cert), level, common_name(cert.subject), key

    # -- targets ---------------------------------------------------------
    def targets(self, value: _Value | None) -> list[Target]:
        """`targets:` name -> {into, outputs}: outputs for other repositories. Their
        paths are checked as text here; the folder they land in is known only when
        `build --target` runs (`--into`), which confines them to it."""
        if value is None or value.value is None:
            return []
        targets: list[Target] = []
        for name, key_node, node in value.value:
            if not re.match(schema.TARGET_NAME, name):
                self.error(
                    key_node,
                    f"target name `{name}`: use lower-case letters, digits, "
                    "`-` and `_` (it names branches, e.g. pingen/ios)",
                )
                continue
            fields = self.mapping(node, schema.TARGET)
            if fields is None:
                continue
            into = self.into_path(fields["into"]) if "into" in fields else None
            outputs = self.outputs(fields.get("outputs"), in_target=True)
            if "outputs" in fields and not fields["outputs"].value:
                self.error(fields["outputs"].node, f"target `{name}` has no outputs")
            targets.append(Target(name, tuple(outputs), into, self.where(key_node)))
        return targets

    def into_path(self, value: _Value) -> Path | None:
        try:
            relative = relative_inside(value.value, self.root)
            confine(relative.as_posix(), self.root, self.repository)
            return relative
        except ValueError as error:
            self.error(value.node, f"`into: {value.value}` {error}")
            return None

    # -- outputs ---------------------------------------------------------
    def outputs(self, value: _Value | None, in_target: bool = False) -> list[Output]:
        """The outputs of `value`: paths inside the config's folder, or for a target's
        relative to a folder known only at build time (checked as text here)."""
        if value is None or value.value is None:
            return []
        outputs: list[Output] = []
        paths: dict[PurePosixPath, yaml.Node] = {}
        for node in value.value:
            output = self.output(node, in_target)
            if output is None:
                continue
            key = PurePosixPath(output.path.as_posix())
            if key in paths:
                line = paths[key].start_mark.line + 1
                self.error(node, f"two outputs write {key} (the other on line {line})")
                continue
            paths[key] = node
            outputs.append(output)
        return outputs

    def output(self, node: yaml.Node, in_target: bool) -> Output | None:
        import yaml

        output_type = None
        type_node = (
            next((v for k, v in node.value if getattr(k, "value", None) == "type"), None)
            if isinstance(node, yaml.MappingNode)
            else None
        )
        if type_node is not None:
            output_type = self.string(type_node, schema.OUTPUT_COMMON["type"], "type")
            if output_type is None:
                return None
        fields = self.mapping(node, schema.output_section(output_type))
        if fields is None:
            return None
        if ("type" in fields) == ("template" in fields):
            self.error(
                node,
                "an output needs exactly one of `type:` (one of "
                f"{', '.join(schema.OUTPUT_TYPES)}) or `template:`",
            )
            return None
        path = self.output_path(fields.get("path"), in_target)
        template = self.template_path(fields["template"]) if "template" in fields else None
        if path is None or ("template" in fields and template is None):
            return None
        section = schema.output_section(output_type)
        options = {
            key: fields[key].value if key in fields else spec.default
            for key, spec in section.fields.items()
            if key not in schema.OUTPUT_COMMON
        }
        return Output(
            path=path,
            type=output_type,
            template=template,
            options=frozen_mapping(options),
            location=self.where(node),
            option_locations=frozen_mapping(
                {key: self.where(fields[key].node) for key in options if key in fields}
            ),
        )

    def refuse_outputs_over_inputs(self, outputs: list[Output]) -> None:
        """No output may replace pins.yaml or a file it reads, nor share its path with
        another output but for letter case (one file on macOS and Windows)."""
        inputs = {file_key(path): path for path in self.inputs}
        written: dict[str, Output] = {}
        for output in outputs:
            key = file_key(self.root / output.path)
            name = output.path.as_posix()
            if key in inputs:
                what = (
                    "pins.yaml itself"
                    if inputs[key] == Path(os.path.realpath(self.path))
                    else f"{inputs[key].name}, a file pins.yaml reads"
                )
                self.errors.append(
                    ConfigError(
                        f"output path {name!r} would overwrite {what}; write the output elsewhere",
                        output.location,
                    )
                )
            elif key in written:
                other = written[key].path.as_posix()
                self.errors.append(
                    ConfigError(
                        f"output path {name!r} and {other!r} differ only in letter case: one file "
                        "on macOS and Windows; give them different names",
                        output.location,
                    )
                )
            written.setdefault(key, output)

    def output_path(self, value: _Value | None, in_target: bool) -> Path | None:
        if value is None:
            return None
        try:
            relative = relative_inside(value.value, self.root)
            if in_target:  # where it lands is known at build time (--into): checked then
                if relative.parts[0] == "..":
                    raise ValueError("leaves the target's folder; its outputs stay inside it")
            else:
                confine_output(relative.as_posix(), self.root, self.repository)
        except ValueError as error:
            self.error(value.node, f"output path {value.value!r} {error}")
            return None
        return relative

    def template_path(self, value: _Value) -> Path | None:
        try:
            relative = relative_inside(value.value, self.root)
        except ValueError as error:
            self.error(value.node, f"template {value.value!r} {error}")
            return None
        if self.confined(value, "template") is None:
            return None
        try:
            is_file = (self.root / relative).is_file()
        except OSError as error:  # e.g. a name too long for the file system
            self.error(value.node, f"template {value.value}: {error.strerror}")
            return None
        if not is_file:
            self.error(
                value.node,
                f"template {value.value}: no such file (paths are relative to {self.path.name})",
            )
            return None
        return relative


# -- rules shared with other commands ---------------------------------------

_A_LEVEL = {PinSource.ROOT: "a root", PinSource.INTERMEDIATE: "an intermediate"}


def relative_inside(text: str, root: Path) -> Path:
    """`text` as a relative path below `root`, `..` folded away, or ValueError saying
    why not. Where it may lead (symbolic links, the repository) is pingen.confine's."""
    if not text.strip():
        raise ValueError("is empty")
    if "\\" in text:
        raise ValueError("uses backslashes; write / between folders")
    if "\0" in text:
        raise ValueError("holds a NUL character")
    pure = PurePosixPath(text)
    if any(len(part.encode()) > 255 for part in pure.parts):
        raise ValueError("has a name longer than file systems allow (255 bytes)")
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", text):
        raise ValueError("is absolute; write it relative to pins.yaml")
    relative = Path(os.path.normpath(pure))
    if relative == Path("."):
        raise ValueError("names the folder of pins.yaml itself, not a file")
    return relative


def _describe(node: yaml.Node) -> str:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "nothing (an empty value)"
    return repr(node.value)
