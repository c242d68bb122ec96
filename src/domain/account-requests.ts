/**
 * What a gateway asks storage about accounts (the AccountsClient port, bus/types.ts), as plain
 * data: in NATS mode these travel to the history service as JSON (nats/history-ops.ts).
 */
import type { RegistrationPolicy } from './identity.ts';

export interface RegisterRequest {
  username: string;
  password: string;
  invite: string | undefined;
  /** REGISTRATION where the request was made: it travels with the event. */
  registration: RegistrationPolicy;
}

export interface LoginRequest {
  username: string;
  password: string;
  /** The client address, for the limit on failed logins per address. */
  address: string;
}

export interface PasswordChange {
  username: string;
  current: string;
  next: string;
  /** The session that made the change: it goes on; every other session and token ends. */
  keepSid: string | null;
}

/** A token the gateway made and signed; storage keeps only its hash. */
export interface NewToken {
  id: string;
  username: string;
  name: string;
  tokenHash: string;
  createdAt: string;
}
