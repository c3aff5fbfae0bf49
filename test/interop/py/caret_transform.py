# Reads JSON cases, one per line: ["insert", pos, len, caret, selection, left_gravity] or
# ["delete", pos, len, caret, selection]; prints libinfinity's [caret, selection] after the real
# inf_text_move_operation_transform_insert/_delete, one JSON list per line.
import json
import sys

import gi
gi.require_version('InfText', '0.7')
from gi.repository import InfText

for line in sys.stdin:
    case = json.loads(line)
    if case[0] == 'insert':
        out = InfText.MoveOperation.transform_insert(case[1], case[2], case[3], case[4], case[5])
    else:
        out = InfText.MoveOperation.transform_delete(case[1], case[2], case[3], case[4])
    print(json.dumps([out.move_position, out.move_length]))
