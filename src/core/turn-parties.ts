/** What `partyOf` reads of a turn. */
export interface TurnSayer {
  speaker: string | null;
  role: string | null;
}

/**
 * Who said a turn: its speaker's name, or its role when it has none. Turns of one party only
 * (a user's notes added one by one to a session) are no conversation: none answers another,
 * so the mechanisms that link a turn to the turns around it (context keys, turn proximity,
 * neighbour packing) link only across parties.
 */
export function partyOf(turn: TurnSayer): string {
  return turn.speaker ?? turn.role ?? '';
}
