/** The deploy simulation of the 'iam' settings profile (docs/deployed-simulation.md). */
import { simulateProfile } from './support/scenario';

simulateProfile('iam');
