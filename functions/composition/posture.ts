/** The fleet posture use cases: process-wide, for the posture and findings routes. */
import { postureService, type PostureService } from '../app/posture';
import type { PostureRepository } from '../app/ports';
import { processWide } from './context';
import { postureRepository } from './repositories';

export const createPosture = (repository: PostureRepository): PostureService => postureService({ posture: repository });

export const posture = processWide(
  (s) => s.posture,
  () => createPosture(postureRepository()),
);
