/** A function of a string, remembered; the table is emptied when it grows large, so memory stays bounded. */
export function memoize<Value>(compute: (key: string) => Value, limit = 50_000): (key: string) => Value {
  const table = new Map<string, Value>();
  return (key) => {
    let value = table.get(key);
    if (value === undefined) {
      if (table.size >= limit) table.clear();
      value = compute(key);
      table.set(key, value);
    }
    return value;
  };
}
