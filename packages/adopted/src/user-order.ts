/**
 * The order in which libinfinity 0.7.2 visits the users of a session (inf_user_table_foreach_user):
 * a list kept by inserting each new id before the first listed id it does not compare above.
 * The comparison is the 32-bit difference of the two ids read as a signed number, so ids that lie
 * 2^31 or more apart compare "backwards" (4294967295 comes before 1) and the result depends on the
 * order in which users were added. Synchronisations (users, then each user's requests) and saved
 * files follow this order.
 */
export function userTableOrder<U extends { readonly id: number }>(usersInInsertionOrder: Iterable<U>): U[] {
  const users = [...usersInInsertionOrder];
  // Ids below 2^31 compare as numbers: the list is simply sorted.
  if (users.every((u) => u.id < 0x80000000)) return users.sort((a, b) => a.id - b.id);
  const list: U[] = [];
  for (const u of users) {
    let i = 0;
    while (i < list.length && ((u.id - list[i].id) | 0) > 0) i++;
    list.splice(i, 0, u);
  }
  return list;
}
