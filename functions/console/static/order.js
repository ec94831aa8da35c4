// The order of the queue as the reviewer last saw it: j/k on an item page go to the
// next and previous entry of that list (kept in the tab's session storage).

const ORDER_KEY = "fapiao.console.order";

export function remembered() {
  try {
    return JSON.parse(sessionStorage.getItem(ORDER_KEY)) ?? [];
  } catch {
    return [];
  }
}

export function remember(ids) {
  sessionStorage.setItem(ORDER_KEY, JSON.stringify(ids));
}

// An entry's new name (a file's invoice that a fix stored: U-... -> its invoice key).
export function renamed(from, to) {
  remember(remembered().map((id) => (id === from ? to : id)));
}
