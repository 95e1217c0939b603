export { dynamicsOnboarding } from './onboarding';
export { dynamicsAppRegistration } from './app-registration';
export { dynamicsOffboarding } from './offboarding';
