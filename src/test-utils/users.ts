import type { AuthUser } from '../auth';
import { Role } from '../identity/role';

/** Callers for unit specs: a teller, and a customer linked to client-1. */
export const TELLER: AuthUser = {
  id: 'teller-1',
  username: 'tina',
  role: Role.Teller,
  clientId: null,
  sessionId: 'session-t',
};

export const CUSTOMER: AuthUser = {
  id: 'customer-1',
  username: 'carol',
  role: Role.Customer,
  clientId: 'client-1',
  sessionId: 'session-c',
};
