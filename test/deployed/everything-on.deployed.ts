/** The deploy simulation of the 'everything-on' settings profile (docs/deployed-simulation.md). */
import { simulateProfile } from './support/scenario';

simulateProfile('everything-on');
