import { Module } from '@nestjs/common';
import type { JwtModuleOptions } from '@nestjs/jwt';
import { AppConfig } from '../../config/app-config';
import { JwtKeys } from './jwt-keys';

/** The signing and published keys, for the auth module and for @nestjs/jwt's JwtModule. */
@Module({ providers: [JwtKeys], exports: [JwtKeys] })
export class JwtKeysModule {}

/**
 * JwtService's settings, from the validated configuration: HS256 signs with
 * JWT_SECRET; RS256 and ES256 with the private key, naming its kid in the
 * header. EdDSA, which jsonwebtoken cannot sign, is signed by TokensService
 * with fast-jwt: JwtService is then not used.
 */
export function jwtModuleOptions(keys: JwtKeys, config: AppConfig): JwtModuleOptions {
  const claims = {
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    expiresIn: config.jwt.accessTtl,
  };
  if (keys.algorithm === 'HS256') {
    return { secret: keys.signingKey, signOptions: { ...claims, algorithm: 'HS256' } };
  }
  if (keys.algorithm === 'EdDSA') return {};
  return {
    privateKey: keys.signingKey,
    signOptions: { ...claims, algorithm: keys.algorithm, keyid: keys.kid },
  };
}
