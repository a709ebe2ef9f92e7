/** Files of the deploy workspace that tests read. */
import * as path from 'node:path';

export const DEPLOY_ROOT = path.join(__dirname, '..', '..');
export const PROMETHEUS_DIR = path.join(DEPLOY_ROOT, 'prometheus');
export const RULES_DIR = path.join(PROMETHEUS_DIR, 'rules');
export const RECORDING_RULES_FILE = path.join(RULES_DIR, 'kappie-recording-rules.yml');
export const ALERT_RULES_FILE = path.join(RULES_DIR, 'kappie-alert-rules.yml');
export const RULE_FILES = [RECORDING_RULES_FILE, ALERT_RULES_FILE];
