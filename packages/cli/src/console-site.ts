import type { ConsoleSite } from '@sprout/console';
import type { Logger } from '@sprout/observe';

/**
 * Prints where the console is: its URL, a one-time sign-in link (as a notebook server prints its
 * token), and on the first start the admin's generated password, which is shown this once.
 */
export function announceConsole(logger: Logger, site: ConsoleSite, url: string): void {
  logger.info({ url, signIn: site.loginLink(url) }, 'console (the sign-in link works once, for 24 h)');
  if (site.createdPassword !== undefined) {
    logger.warn(
      { user: 'admin', password: site.createdPassword },
      'console admin account created; its password is shown only this once (SPROUT_ADMIN_PASSWORD sets another)',
    );
  }
}
