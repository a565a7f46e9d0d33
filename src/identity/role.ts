export enum Role {
  Admin = 'admin',
  Teller = 'teller',
  Customer = 'customer',
}

export const STAFF_ROLES = [Role.Admin, Role.Teller] as const;
