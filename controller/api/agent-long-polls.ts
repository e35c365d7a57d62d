// One long poll per agent at a time. The agent's loop polls one at a time; a second poll of the
// same agent (its first on a connection that died unseen, or a client holding its token) ends
// the first at once (it answers 204: no session). Without this, one agent's token held any number
// of connections busy for 30 s at a time, and busy agents' connections never give way to new ones
// (connection-admission.ts): from a few addresses they filled the listener's cap, and every new
// connection was refused, other agents' and probes' included.

export class AgentLongPolls {
  readonly #polls = new Map<string, AbortController>();

  /** A poll of `agent` starts: the signal aborts when a newer poll of the same agent starts; call done() when it ends. */
  start(agent: string): { signal: AbortSignal; done(): void } {
    this.#polls.get(agent)?.abort();
    const ac = new AbortController();
    this.#polls.set(agent, ac);
    return {
      signal: ac.signal,
      done: () => {
        if (this.#polls.get(agent) === ac) this.#polls.delete(agent);
      },
    };
  }

  /** Agents with a poll in progress (tests). */
  get size(): number {
    return this.#polls.size;
  }
}
