/** The deploy simulation of the 'defaults' settings profile (docs/deployed-simulation.md). */
import { simulateProfile } from './support/scenario';

simulateProfile('defaults');
