"""What a content template may say, decided when it is compiled.

Tags other than output, if, for, set and with are refused, and so are unknown names, private
attributes and recursive loops, each with its line. What is allowed is rewritten so that the render
budget (limits.py) sees it: loops walk through a step counter, `~`, slices, comparisons, tests and
list, tuple and dict literals go through filters that charge what they build.
"""
from flask_babel import gettext as _
from jinja2 import TemplateSyntaxError, nodes
from jinja2.visitor import NodeTransformer

_ALLOWED_STATEMENTS = (nodes.Output, nodes.If, nodes.For, nodes.Assign, nodes.With, nodes.Scope)
_TAG_NAMES = {"AssignBlock": "set … endset", "CallBlock": "call", "FilterBlock": "filter", "FromImport": "from"}


def _filter(node: nodes.Expr, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


class Guard(NodeTransformer):
    """Refuse what a content template never needs; route loops and joins through the guards."""

    def __init__(self, names: set[str], filename: str):
        self.names, self.filename = names, filename

    def _refuse(self, node: nodes.Node, message: str):
        raise TemplateSyntaxError(message, node.lineno, filename=self.filename)

    def generic_visit(self, node, *args, **kwargs):
        if isinstance(node, nodes.Stmt) and not isinstance(node, _ALLOWED_STATEMENTS):
            name = type(node).__name__
            self._refuse(node, _("The tag “%(tag)s” is not allowed in content templates.",
                                 tag=_TAG_NAMES.get(name, name.lower())))
        return super().generic_visit(node, *args, **kwargs)

    def visit_For(self, node: nodes.For):
        if node.recursive:
            self._refuse(node, _("Recursive loops are not allowed in content templates."))
        node = self.generic_visit(node)
        node.iter = _filter(node.iter, "_guard_iter")
        return node

    def visit_Concat(self, node: nodes.Concat):
        node = self.generic_visit(node)
        return _filter(nodes.List(node.nodes, lineno=node.lineno), "_concat")

    def _built(self, node):
        """A list, tuple or dict written in the template: charged to the budget like any other."""
        node = self.generic_visit(node)
        return node if getattr(node, "ctx", "load") != "load" else _filter(node, "_charge")

    visit_List = visit_Tuple = visit_Dict = _built

    def _ticked(self, node):
        """Comparisons and tests walk whole values: each one is a step and looks at the clock."""
        return _filter(self.generic_visit(node), "_tick")

    visit_Compare = visit_Test = _ticked

    def visit_Getitem(self, node: nodes.Getitem):
        node = self.generic_visit(node)
        if not isinstance(node.arg, nodes.Slice):
            return node
        # Jinja writes slices as plain Python, past the sandbox: a slice is a copy, so it is charged too.
        bounds = [getattr(node.arg, part) or nodes.Const(None) for part in ("start", "stop", "step")]
        return nodes.Filter(node.node, "_slice", bounds, [], None, None, lineno=node.lineno)

    def visit_Name(self, node: nodes.Name):
        if node.ctx == "load" and node.name not in self.names:
            self._refuse(node, _("Unknown variable “%(name)s”.", name=node.name))
        return node

    def visit_Getattr(self, node: nodes.Getattr):
        if node.attr.startswith("_"):
            self._refuse(node, _("The attribute “%(name)s” is not allowed.", name=node.attr))
        return self.generic_visit(node)
