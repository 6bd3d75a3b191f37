"""The safe expression language: text -> SymPy (``parse``) and SymPy -> text/LaTeX.

User text is read by our own tokenizer and parser and built from a whitelist; nothing
here evaluates it. See the "Expression syntax" section of the API contract.
"""

from service.expressions.builder import Parsed
from service.expressions.functions import CONSTANTS, FUNCTIONS, ConstantInfo, FunctionInfo
from service.expressions.numeric import NUMERIC_FUNCTIONS
from service.expressions.parsing import parse
from service.expressions.printer import UnprintableExpression, to_latex, to_text
from service.expressions.symbols import check_variable_name, symbol

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "NUMERIC_FUNCTIONS",
    "ConstantInfo",
    "FunctionInfo",
    "Parsed",
    "UnprintableExpression",
    "check_variable_name",
    "parse",
    "symbol",
    "to_latex",
    "to_text",
]
