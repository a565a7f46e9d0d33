import { Module } from '@nestjs/common';
import { Cursors } from './pagination';

/**
 * What the features' lists share: one signer of cursors, the same instance
 * for every module that imports this one.
 */
@Module({ providers: [Cursors], exports: [Cursors] })
export class CommonModule {}
