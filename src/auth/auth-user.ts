import { Role } from '../identity/role';

/** The authenticated caller, as the per-request session check found it. */
export interface AuthUser {
  id: string;
  username: string;
  role: Role;
  clientId: string | null;
  sessionId: string;
}
