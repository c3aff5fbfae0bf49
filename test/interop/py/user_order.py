# Reads JSON lists of user ids (one list per line), adds them to a real InfUserTable in that
# order and prints the ids as inf_user_table_foreach_user visits them, one JSON list per line.
import json
import sys

import gi
gi.require_version('Infinity', '0.7')
from gi.repository import Infinity

for line in sys.stdin:
    table = Infinity.UserTable.new()
    for i, uid in enumerate(json.loads(line)):
        table.add_user(Infinity.User(id=uid, name='u%d' % i))
    visited = []
    table.foreach_user(lambda user, _: visited.append(user.get_property('id')), None)
    print(json.dumps(visited), flush=True)
