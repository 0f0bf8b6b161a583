"""Load pins.yaml into the model: strict, with every error at its file:line:col.

    load_config(path) -> Config

Three steps: the YAML is composed into nodes (which keep their positions); each
mapping is checked against the declarations in `pingen.config.schema` by
`pingen.config.check` as the builder here reaches it; and the builder makes the model,
with the rules between fields, the paths pins.yaml names, and each pin's source
resolved by `pingen.config.pin_sources` through the lookups passed in. Every rule of
docs/pins-yaml.md is an error; independent errors are collected and reported together.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from pingen.config import schema
from pingen.config.check import Fatal, PinsYamlChecker, first_line
from pingen.config.pin_sources import Lookups, PinSources, Resolved, Unresolved, disk_lookups
from pingen.confine import Repository, confine, confine_output, file_key, repository_of
from pingen.errors import ConfigError, Location, raise_together
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
from pingen.nodes import Value
from pingen.pki.sources import MAX_KEY_FILE_BYTES
from pingen.spki import KeyType

MAX_CONFIG_BYTES = 1024 * 1024


def load_config(
    path: Path | str,
    *,
    today: dt.date | None = None,
    repository: Repository | None = None,
    lookups: Lookups | None = None,
) -> Config:
    """Read and validate pins.yaml. Raises ConfigError (exit 2) on any problem.

    `today` decides which expiry dates are in the past (tests pass a fixed one).
    `repository`: where the paths it names may lead (default: the git work tree
    holding it, else its folder; `diff --base` passes its copy of the old revision).
    `lookups`: what pins name besides pins.yaml (default: key files on disk, the CA catalog).
    """
    path = Path(path)
    _refuse_linked_out(path, repository)
    text = _read_text(path)
    return load_config_text(text, path, today=today, repository=repository, lookups=lookups)


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
    text: str,
    path: Path,
    *,
    today: dt.date | None = None,
    repository: Repository | None = None,
    lookups: Lookups | None = None,
) -> Config:
    """`load_config` on text said to be `path`'s (an edit before it is written)."""
    root = _compose(text, path)
    check = PinsYamlChecker(path, today or dt.date.today())
    config = _Builder(check, repository, lookups or disk_lookups()).config(root)
    raise_together(check.errors)
    assert config is not None  # no errors: the builder built it
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
    # Each walk runs only where its bound can be passed (a match object per line of a
    # 500-domain pins.yaml was a tenth of its reading): the depth never exceeds the
    # number of opening brackets, and a line's prefix is made of blanks and markers.
    depth = 0
    if text.count("[") + text.count("{") > MAX_NESTING:
        for bracket in re.finditer(r"[\[\]{}]", text):
            depth = depth + 1 if bracket.group() in "[{" else max(depth - 1, 0)
            if depth > MAX_NESTING:
                _nested_too_deeply(text, path, bracket.start())
    if _LONG_PREFIX.search(text):
        for match in _BLOCK_PREFIX.finditer(text):
            if len(match.group()) > MAX_NESTING * 2:
                _nested_too_deeply(text, path, match.start())


_BLOCK_PREFIX = re.compile(r"^[ \t]*(?:[-?:][ \t]+)*", re.MULTILINE)
_LONG_PREFIX = re.compile(rf"^[ \t?:-]{{{MAX_NESTING * 2 + 1},}}", re.MULTILINE)


def _nested_too_deeply(text: str, path: Path, offset: int) -> None:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    raise ConfigError(
        f"YAML nested more than {MAX_NESTING} levels deep; a pins.yaml needs about six",
        Location(path, line, column),
    )


# libyaml's composer is ten times faster and keeps positions just the same.
_LIBYAML: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_LIBYAML):  # type: ignore[valid-type,misc]  # libyaml if present, else PyYAML
    """The safe loader, with each scalar's implicit tag resolved once per document: the
    composer asks for every scalar, and a 500-domain pins.yaml repeats its few distinct
    values (pins, labels, `true`, addresses) thousands of times. The tag depends on the
    kind, the text and how it was quoted only (the safe loader has no path resolvers)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.implicit_tags: dict[tuple[Any, ...], str] = {}

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
        key = (kind, value, implicit)
        tag = self.implicit_tags.get(key)
        if tag is None:
            tag = self.implicit_tags[key] = super().resolve(kind, value, implicit)
        return tag


def _compose(text: str, path: Path) -> yaml.Node:
    _refuse_deep_nesting(text, path)
    try:
        node = yaml.compose(text, Loader=_Loader)
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
            if _LIBYAML is not yaml.SafeLoader
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


class _Builder:
    """The model from pins.yaml's checked nodes: domains, pins (their sources resolved
    through `PinSources`), outputs and targets, with the rules between fields and the
    paths pins.yaml names (pingen.confine)."""

    def __init__(
        self, check: PinsYamlChecker, repository: Repository | None, lookups: Lookups
    ) -> None:
        self.check = check
        self.path = check.path  # as the user wrote it: messages name it so
        self.root = self.path.absolute().parent
        self.repository = repository or repository_of(self.path)
        self.inputs: set[Path] = {Path(os.path.realpath(self.path))}  # every file read (real paths)
        self.lookups = lookups
        self.sources = PinSources(lookups, self.path.name)

    def error(self, node: yaml.Node, message: str) -> None:
        self.check.error(node, message)

    # -- the config ------------------------------------------------------
    def config(self, root: yaml.Node) -> Config | None:
        try:
            return self._config(root)
        except Fatal:
            return None

    def _config(self, root: yaml.Node) -> Config | None:
        top = self.check.mapping(root, schema.CONFIG)
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
        if self.check.errors or version is None:
            return None
        return Config(
            path=self.path.absolute(),
            version=version.value,
            domains=tuple(domains),
            outputs=tuple(outputs),
            trust=trust,
            warnings=tuple(self.check.warnings),
            repository=self.repository,
            inputs=frozenset(self.inputs),
            targets=tuple(targets),
        )

    def confined(self, value: Value[yaml.Node], what: str) -> Path | None:
        """The real path of a file pins.yaml names, inside the repository (pingen.confine),
        recorded as an input; None (with the error) when it leads elsewhere."""
        try:
            path = confine(value.value, self.root, self.repository)
        except ValueError as error:
            self.error(value.node, f"{what} {value.value!r} {error}")
            return None
        self.inputs.add(path)
        return path

    def trust(self, values: dict[str, Value[yaml.Node]]) -> Trust:
        paths = {key: self.existing_file(key, v) for key, v in values.items()}
        catalog = paths.get("catalog")
        if catalog is not None:
            from pingen.pki.catalog import CatalogError

            try:
                self.inputs.update(self.lookups.load_catalog(catalog).files)
            except CatalogError as error:
                self.error(values["catalog"].node, f"`catalog`: {error}")
                catalog = None
        self.sources.catalog = catalog
        return Trust(ca_file=paths.get("ca_file"), catalog=catalog)

    def existing_file(self, key: str, value: Value[yaml.Node]) -> Path | None:
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
    def domains(
        self, value: Value[yaml.Node] | None, defaults: dict[str, Value[yaml.Node]]
    ) -> list[Domain]:
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
            line = first_line(hosts, host, key_node)
            if line is not None:
                self.error(
                    key_node,
                    f"`{key}` is the same host as the one on line {line} "
                    f"({host}); each host may appear once",
                )
                continue
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
            self.check.warn(node, legacy)
        return host

    def domain(
        self, host: str, key_node: yaml.Node, node: yaml.Node, defaults: dict[str, Value[yaml.Node]]
    ) -> Domain | None:
        own = self.check.mapping(node, schema.DOMAIN)
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
            location=self.check.where(key_node),
        )

    def report_uris(self, value: Value[yaml.Node] | None) -> tuple[str, ...]:
        if value is None:
            return ()
        for uri in value.value:
            if not re.match(r"^https?://[^\s/]+", uri):
                self.error(value.node, f"report URI {uri!r} is not an http(s) URL")
        return tuple(value.value)

    def connect(self, value: Value[yaml.Node]) -> Address | None:
        try:
            return parse_address(value.value)
        except ValueError as error:
            self.error(value.node, f"`connect: {value.value}`: {error}")
            return None

    # -- pins ------------------------------------------------------------
    def pins(self, value: Value[yaml.Node] | None, host: str) -> tuple[Pin, ...] | None:
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
            line = first_line(seen, pin.sha256, pin_node)
            if line is not None:
                self.error(
                    pin_node,
                    f"this pin ({pin.sha256}) is already listed for {host} "
                    f"on line {line}; remove one",
                )
                ok = False
                continue
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
        fields = self.check.mapping(node, schema.PIN)
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
        key = self.pin_key(fields.get("key"), found.key, source)
        level = Level(fields["level"].value) if "level" in fields else found.level
        label = fields["label"].value if "label" in fields else found.label
        return Pin(
            sha256=found.sha256,
            source=source,
            label=label,
            level=level,
            backup=fields["backup"].value if "backup" in fields else False,
            location=self.check.where(node),
            key=key,
        )

    def pin_key(
        self, value: Value[yaml.Node] | None, known: KeyType | None, source: PinSource
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

    def resolve_source(self, source: PinSource, value: Value[yaml.Node]) -> Resolved | None:
        try:
            if source is PinSource.SHA256:
                return self.sources.sha256(value.value)
            if source is PinSource.FILE:
                path = self.confined(value, "`file:`")
                if path is None:
                    return None
                found = self.sources.file(value.value, path)
            else:
                found = self.sources.named(source, value.value)
        except Unresolved as error:
            self.error(value.node, str(error))
            return None
        if found.warning:
            self.check.warn(value.node, found.warning)
        return found

    # -- targets ---------------------------------------------------------
    def targets(self, value: Value[yaml.Node] | None) -> list[Target]:
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
            fields = self.check.mapping(node, schema.TARGET)
            if fields is None:
                continue
            into = self.into_path(fields["into"]) if "into" in fields else None
            outputs = self.outputs(fields.get("outputs"), in_target=True)
            if "outputs" in fields and not fields["outputs"].value:
                self.error(fields["outputs"].node, f"target `{name}` has no outputs")
            targets.append(Target(name, tuple(outputs), into, self.check.where(key_node)))
        return targets

    def into_path(self, value: Value[yaml.Node]) -> Path | None:
        try:
            relative = relative_inside(value.value, self.root)
            confine(relative.as_posix(), self.root, self.repository)
            return relative
        except ValueError as error:
            self.error(value.node, f"`into: {value.value}` {error}")
            return None

    # -- outputs ---------------------------------------------------------
    def outputs(self, value: Value[yaml.Node] | None, in_target: bool = False) -> list[Output]:
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
            line = first_line(paths, key, node)
            if line is not None:
                self.error(node, f"two outputs write {key} (the other on line {line})")
                continue
            outputs.append(output)
        return outputs

    def output(self, node: yaml.Node, in_target: bool) -> Output | None:
        output_type = None
        type_node = self.check.child(node, "type")  # which options it may have
        if type_node is not None:
            output_type = self.check.string(type_node, schema.OUTPUT_COMMON["type"], "type")
            if output_type is None:
                return None
        fields = self.check.mapping(node, schema.output_section(output_type))
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
            location=self.check.where(node),
            option_locations=frozen_mapping(
                {key: self.check.where(fields[key].node) for key in options if key in fields}
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
                self.check.errors.append(
                    ConfigError(
                        f"output path {name!r} would overwrite {what}; write the output elsewhere",
                        output.location,
                    )
                )
            elif key in written:
                other = written[key].path.as_posix()
                self.check.errors.append(
                    ConfigError(
                        f"output path {name!r} and {other!r} differ only in letter case: one file "
                        "on macOS and Windows; give them different names",
                        output.location,
                    )
                )
            written.setdefault(key, output)

    def output_path(self, value: Value[yaml.Node] | None, in_target: bool) -> Path | None:
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

    def template_path(self, value: Value[yaml.Node]) -> Path | None:
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
