"""The display filter grammar (lark, LALR), tshark 4.0's syntax:

    ipv6.addr == 2001:db8::/32 && !tunnel
    mip6.mhtype in {5, 6} or (issue and not lost)
    mn == car-17 and handoff == 2

Precedence, as in tshark 4.0: ``not``/``!`` binds tightest, then
``and``/``&&``, then ``or``/``||``; parentheses group. A field alone tests
that it is present. Field names and bare values are one token (``WORD``): a
field name, a number, an IPv6 address or prefix, a node name or issue code;
``"..."`` quotes a string.
"""

GRAMMAR = r"""
?start: or_expr

?or_expr: and_expr
        | or_expr ("or" | "||") and_expr          -> or_

?and_expr: not_expr
         | and_expr ("and" | "&&") not_expr       -> and_

?not_expr: atom
         | ("not" | "!") not_expr                 -> not_

?atom: "(" or_expr ")"
     | test

test: WORD                              -> exists
    | WORD cmp_op value                 -> compare
    | WORD "in" "{" set_items "}"       -> member
    | WORD "contains" value             -> contains
    | WORD ("matches" | "~") value      -> matches

!cmp_op: "==" | "eq" | "!=" | "ne" | "===" | "all_eq" | "!==" | "any_ne"
       | "<" | "lt" | "<=" | "le" | ">" | "gt" | ">=" | "ge"

set_items: set_item (","? set_item)*
?set_item: value
         | value RANGE value            -> range

?value: WORD
      | STRING

RANGE: ".."

WORD: /[A-Za-z0-9_:\-][A-Za-z0-9_.:\/\-]*/
STRING: /"(?:[^"\\]|\\.)*"/

%import common.WS
%ignore WS
"""
