import { Role } from '../identity/role';

/** The authenticated caller, as the per-request session check found it. */
export interface AuthUser {
  id: string;
  username: string;
  role: Role;
  clientId: string | null;
  sessionId: string;
}

/** The user as an audit event's actor: who, as they were at the time. */
export function auditActor(user: Pick<AuthUser, 'id' | 'username' | 'role'>): {
  id: string;
  username: string;
  role: string;
} {
  return { id: user.id, username: user.username, role: user.role };
}
