export { dynamicsOnboarding } from './onboarding';
export { dynamicsAppRegistration } from './app-registration';
