/* password.h: how xmppdctl gets a new password that is not on its command
 * line. */
#ifndef XMPPD_CTL_PASSWORD_H
#define XMPPD_CTL_PASSWORD_H

/* On a terminal: prompts on it for `jid`'s new password, without echo,
 * twice, and refuses two that differ. Otherwise reads one line of stdin.
 * 0 and *out (the caller wipes and frees it), or XD_EINVAL (said why on
 * stderr). */
int ctl_password_read(const char *jid, char **out);

#endif
