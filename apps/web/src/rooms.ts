/**
 * Room names: random readable ones for new rooms ("amber-otter-417"), and cleaning what
 * people type into what the hub accepts (docs/protocol/hub.md §3.1: [A-Za-z0-9_.~-]{1,128}, not
 * only dots).
 */
const ADJECTIVES = [
  'amber', 'brave', 'bright', 'calm', 'clever', 'cosy', 'crisp', 'eager', 'fancy', 'gentle',
  'golden', 'happy', 'jolly', 'kind', 'lively', 'lucky', 'mellow', 'merry', 'misty', 'noble',
  'proud', 'quick', 'quiet', 'rapid', 'rosy', 'shiny', 'silver', 'sunny', 'swift', 'tidy',
  'vivid', 'witty',
];
const NOUNS = [
  'badger', 'beacon', 'canyon', 'comet', 'falcon', 'fern', 'harbor', 'heron', 'island', 'lagoon',
  'lantern', 'maple', 'meadow', 'otter', 'panda', 'pebble', 'pine', 'puffin', 'raven', 'river',
  'robin', 'salmon', 'summit', 'thistle', 'tiger', 'tulip', 'valley', 'walrus', 'willow', 'wombat',
  'yak', 'zebra',
];

export const MAX_ROOM_NAME = 128;

/** `adjective-noun-NNN`: about 1 million names, easy to read out over the phone. */
export function randomRoomName(random: (n: number) => number = randomInt): string {
  const adjective = ADJECTIVES[random(ADJECTIVES.length)]!;
  const noun = NOUNS[random(NOUNS.length)]!;
  return `${adjective}-${noun}-${100 + random(900)}`;
}

function randomInt(n: number): number {
  const value = crypto.getRandomValues(new Uint32Array(1))[0]!;
  return value % n;
}

/**
 * What someone typed (or pasted: a whole join link works too) as a room name, or
 * undefined when nothing usable is left.
 */
export function cleanRoomName(input: string): string | undefined {
  let text = input.trim();
  const link = /\/r\/([^/?#]+)/.exec(text);
  if (link) text = decodeURIComponent(link[1]!);
  const name = text
    .replace(/\s+/g, '-')
    .replace(/[^A-Za-z0-9_.~-]/g, '')
    .slice(0, MAX_ROOM_NAME);
  return name === '' || /^\.+$/.test(name) ? undefined : name;
}

/** The join link of `room` on this origin. */
export function joinLink(origin: string, room: string): string {
  return `${origin}/r/${encodeURIComponent(room)}`;
}

/** The watch link of `room` on this origin: the room played without joining (watch.ts). */
export function watchLink(origin: string, room: string): string {
  return `${origin}/watch/${encodeURIComponent(room)}`;
}

/** The room of a `/r/<room>` path, if it is one. */
export function roomFromPath(pathname: string): string | undefined {
  return roomAt(/^\/r\/([^/]+)\/?$/, pathname);
}

/** The room of a `/watch/<room>` path, if it is one. */
export function watchedRoomFromPath(pathname: string): string | undefined {
  return roomAt(/^\/watch\/([^/]+)\/?$/, pathname);
}

function roomAt(pattern: RegExp, pathname: string): string | undefined {
  const match = pattern.exec(pathname);
  if (!match) return undefined;
  try {
    return cleanRoomName(decodeURIComponent(match[1]!));
  } catch {
    return undefined; // a malformed %-escape
  }
}
