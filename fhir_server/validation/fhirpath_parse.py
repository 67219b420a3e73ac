"""A parser for the subset of FHIRPath (http://hl7.org/fhirpath/N1/) that profile invariants use.

Produces a small tuple AST for `fhirpath.py` to compile into Python closures. Anything outside
the subset raises `Unsupported`, and the caller falls back to fhirpathpy. Grammar and operator
precedence follow FHIRPath N1 section 4 and Appendix A (the ANTLR grammar).

AST nodes: ("lit", [values]) | ("this",) | ("var", name) | ("member", target|None, name)
| ("call", target|None, name, [args]) | ("index", target, expr) | ("op", op, left, right).
"""

from __future__ import annotations

import re
from typing import Any

Node = tuple[Any, ...]


class Unsupported(Exception):
    """The expression uses FHIRPath outside the fast subset (fhirpathpy handles it)."""


_TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<number>[0-9]+(?:\.[0-9]+)?)
  | (?P<quoted>`(?:[^`\\]|\\.)*`)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<special>\$this|\$index|\$total|%[A-Za-z_][A-Za-z0-9_]*|%'(?:[^'\\]|\\.)*'|%`[^`]*`)
  | (?P<symbol>!=|!~|<=|>=|\{\}|[=~<>|+\-*/&(),.\[\]])
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)

_ESCAPES = {"'": "'", '"': '"', "`": "`", "\\": "\\", "/": "/", "f": "\f", "n": "\n",
            "r": "\r", "t": "\t"}

# Binary operators by precedence (FHIRPath N1 section 4.6 / grammar): low binds loosest.
_PRECEDENCE = {"implies": 1, "or": 2, "xor": 2, "and": 3, "in": 4, "contains": 4, "=": 5,
               "!=": 5, "~": 5, "!~": 5, "<": 6, ">": 6, "<=": 6, ">=": 6, "|": 7, "is": 8,
               "as": 8, "+": 9, "-": 9, "&": 9, "*": 10, "/": 10, "div": 10, "mod": 10}
_WORD_OPERATORS = frozenset({"implies", "or", "xor", "and", "in", "contains", "is", "as", "div",
                             "mod"})


def _unescape(body: str) -> str:
    """Resolve FHIRPath string escapes (\\', \\n, \\uXXXX...)."""
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        following = body[index + 1] if index + 1 < len(body) else ""
        if following == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", body[index + 2:index + 6]):
            out.append(chr(int(body[index + 2:index + 6], 16)))
            index += 6
        elif following in _ESCAPES:
            out.append(_ESCAPES[following])
            index += 2
        else:
            raise Unsupported(f"unknown escape \\{following}")
    return "".join(out)


def tokenize(expression: str) -> list[tuple[str, Any]]:
    """(kind, value) tokens; kinds: string, number, ident, special, symbol, op, end."""
    tokens: list[tuple[str, Any]] = []
    for match in _TOKEN.finditer(expression):
        kind = match.lastgroup or "other"
        text = match.group()
        if kind == "space":
            continue
        if kind == "other":
            raise Unsupported(f"unexpected character {text!r}")
        if kind == "string":
            tokens.append(("string", _unescape(text[1:-1])))
        elif kind == "number":
            tokens.append(("number", float(text) if "." in text else int(text)))
        elif kind == "quoted":
            tokens.append(("ident", _unescape(text[1:-1])))
        elif (kind, text in _WORD_OPERATORS, text in _PRECEDENCE) in (
                ("ident", True, True), ("symbol", False, True)):
            tokens.append(("op", text))
        else:
            tokens.append((kind, text))
    tokens.append(("end", None))
    return tokens


class _Parser:
    """Precedence-climbing parser over the token list."""

    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> tuple[str, Any]:
        """The next token, not consumed."""
        return self.tokens[self.position]

    def take(self, kind: str, value: Any = None) -> Any:
        """Consume a token of this kind (and value), or fail."""
        token_kind, token_value = self.tokens[self.position]
        if token_kind != kind or (value is not None and token_value != value):
            raise Unsupported(f"expected {value or kind}, found {token_value!r}")
        self.position += 1
        return token_value

    def expression(self, min_precedence: int = 1) -> Node:
        """A binary-operator expression whose operators bind at least min_precedence."""
        left = self.postfix(self.term())
        while True:
            kind, value = self.peek()
            if kind != "op" or _PRECEDENCE[value] < min_precedence:
                return left
            self.position += 1
            if value in ("is", "as"):
                raise Unsupported(f"operator {value}")
            right = self.expression(_PRECEDENCE[value] + 1)
            left = ("op", value, left, right)

    def term(self) -> Node:
        """A literal, a parenthesised expression, a variable or an invocation."""
        kind, value = self.peek()
        self.position += 1
        if kind == "string" or kind == "number":
            return ("lit", [value])
        if kind == "symbol" and value == "{}":
            return ("lit", [])
        if kind == "symbol" and value == "(":
            inner = self.expression()
            self.take("symbol", ")")
            return inner
        if kind == "special":
            if value == "$this":
                return ("this",)
            if value.startswith("%") and not value.startswith(("%'", "%`")):
                return ("var", value[1:])
            raise Unsupported(value)
        if kind == "ident":
            if value in ("true", "false"):
                return ("lit", [value == "true"])
            return self.invocation(None, value)
        raise Unsupported(f"unexpected {value!r}")

    def invocation(self, target: Node | None, name: str) -> Node:
        """`name` or `name(args)` applied to target (None: the focus)."""
        if self.peek() != ("symbol", "("):
            return ("member", target, name)
        self.position += 1
        args: list[Node] = []
        if self.peek() != ("symbol", ")"):
            args.append(self.expression())
            while self.peek() == ("symbol", ","):
                self.position += 1
                args.append(self.expression())
        self.take("symbol", ")")
        return ("call", target, name, args)

    def postfix(self, node: Node) -> Node:
        """Trailing `.invocation` and `[index]` parts."""
        while True:
            token = self.peek()
            if token == ("symbol", "."):
                self.position += 1
                kind, value = self.peek()
                if kind not in ("ident", "op"):
                    raise Unsupported(f"expected a name after '.', found {value!r}")
                self.position += 1
                node = self.invocation(node, value)
            elif token == ("symbol", "["):
                self.position += 1
                index = self.expression()
                self.take("symbol", "]")
                node = ("index", node, index)
            else:
                return node


def parse(expression: str) -> Node:
    """Parse a FHIRPath expression of the fast subset into an AST (Unsupported otherwise)."""
    parser = _Parser(tokenize(expression))
    node = parser.expression()
    parser.take("end")
    return node
