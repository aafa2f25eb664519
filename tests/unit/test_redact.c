/*
 * Unit tests for redact.c: what a stanza logged at debug level must not
 * show (SASL payloads of every mechanism, passwords of in-band
 * registration, legacy auth and MUC, the XEP-0114 handshake digest, private
 * and password fields of data forms, XEP-0249 invitation passwords), that
 * the rest of the stanza is kept, and that the stanza itself is untouched.
 */
#include "check.h"
#include "parse_xml.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/element.h>
#include <xmppd/redact.h>
#include <xmppd/xml_parser.h>

#define SASL    "urn:ietf:params:xml:ns:xmpp-sasl"
#define MUC     "http://jabber.org/protocol/muc"
#define COMMAND "http://jabber.org/protocol/commands"

static const struct {
    const char *xml;
    const char *secret; /* must not be in the log line */
    const char *kept;   /* must still be in it */
} cases[] = {
    /* SASL, every element that carries a payload, whatever the mechanism */
    { "<auth xmlns='" SASL "' mechanism='PLAIN'>AGFsaWNlAHMzY3JldA==</auth>",
      "AGFsaWNlAHMzY3JldA==", "mechanism='PLAIN'" },
    { "<auth xmlns='" SASL "' mechanism='SCRAM-SHA-1'>"
      "biwsbj1hbGljZSxyPWZ5a28rZDJsYmJGZ09OUnY5cWt4ZGF3TA==</auth>",
      "biwsbj1hbGljZSxyPWZ5a28rZDJsYmJGZ09OUnY5cWt4ZGF3TA==", "SCRAM-SHA-1" },
    { "<challenge xmlns='" SASL "'>cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZjTkhZ"
      "SlkxWlZ2V1ZzN2oscz1RU1hDUitRNnNlazhiZjkyLGk9NDA5Ng==</challenge>",
      "cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZjTkhZ", "challenge" },
    { "<response xmlns='" SASL "'>Yz1iaXdzLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXd"
      "MM3JmY05IWUpZMVpWdldWczdqLHA9djBYOHYzQnoyVDBDSkdiSlF5RjBYK0hJNFRzPQ=="
      "</response>",
      "Yz1iaXdzLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXd", "response" },
    { "<success xmlns='" SASL "'>dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9"
      "</success>",
      "dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9", "success" },
    { "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'>"
      "<initial-response>AGJvYgBzYXNsMg==</initial-response></authenticate>",
      "AGJvYgBzYXNsMg==", "authenticate" },
    /* XEP-0114: the digest proves the secret; it must not be replayable */
    { "<handshake xmlns='jabber:component:accept'>"
      "aaaf00d5b7d0d3a0e1f2c3b4a5968778695a4b3c</handshake>",
      "aaaf00d5b7d0d3a0e1f2c3b4a5968778695a4b3c", "handshake" },
    { "<handshake xmlns='jabber:client'>"
      "bbbf00d5b7d0d3a0e1f2c3b4a5968778695a4b3c</handshake>",
      "bbbf00d5b7d0d3a0e1f2c3b4a5968778695a4b3c", "handshake" },
    /* XEP-0077 registration and password change, XEP-0078 legacy auth */
    { "<iq xmlns='jabber:client' type='set' id='r1'>"
      "<query xmlns='jabber:iq:register'><username>bill</username>"
      "<password>Calliope</password></query></iq>",
      "Calliope", "<username>bill</username>" },
    { "<iq xmlns='jabber:client' type='set' id='a1'>"
      "<query xmlns='jabber:iq:auth'><username>bill</username>"
      "<password>Clio</password><digest>48fc78be9ec8f86d8ce1c39c320c97c21d6"
      "2334d</digest><resource>globe</resource></query></iq>",
      "Clio", "<resource>globe</resource>" },
    { "<iq xmlns='jabber:client' type='set' id='a2'>"
      "<query xmlns='jabber:iq:auth'><digest>48fc78be9ec8f86d8ce1c39c320c97c2"
      "1d62334d</digest></query></iq>",
      "48fc78be9ec8f86d8ce1c39c320c97c21d62334d", "digest" },
    /* data forms: private fields and password fields, typed or not */
    { "<iq xmlns='jabber:client' type='set' id='c1'>"
      "<command xmlns='" COMMAND "' node='http://jabber.org/protocol/admin#"
      "change-user-password' sessionid='s1'><x xmlns='jabber:x:data' "
      "type='submit'><field var='accountjid'><value>juliet@localhost</value>"
      "</field><field var='password'><value>n3wpass</value></field></x>"
      "</command></iq>",
      "n3wpass", "juliet@localhost" },
    { "<iq xmlns='jabber:client' type='set' id='c2'>"
      "<command xmlns='" COMMAND "' node='change-password'><x xmlns='jabber:x:"
      "data' type='submit'><field var='old-password'><value>0ldpass</value>"
      "</field><field var='Password-Verify'><value>v3rify</value></field>"
      "</x></command></iq>",
      "0ldpass", "old-password" },
    { "<iq xmlns='jabber:client' type='set' id='c3'>"
      "<command xmlns='" COMMAND "' node='change-password'><x xmlns='jabber:x:"
      "data' type='submit'><field var='Password-Verify'><value>v3rify</value>"
      "</field></x></command></iq>",
      "v3rify", "Password-Verify" },
    { "<message xmlns='jabber:client'><x xmlns='jabber:x:data' type='form'>"
      "<field var='pin' type='text-private'><value>4711</value></field>"
      "<field var='name'><value>visible</value></field></x></message>",
      "4711", "visible" },
    /* MUC: entering, owner's configuration and destruction, invitations */
    { "<presence xmlns='jabber:client' to='coven@chat.example/thirdwitch'>"
      "<x xmlns='" MUC "'><password>cauldronburn</password></x></presence>",
      "cauldronburn", "thirdwitch" },
    { "<iq xmlns='jabber:client' type='set' id='o1'>"
      "<query xmlns='" MUC "#owner'><x xmlns='jabber:x:data' type='submit'>"
      "<field var='muc#roomconfig_roomname'><value>Coven</value></field>"
      "<field var='muc#roomconfig_roomsecret'><value>r00msecret</value>"
      "</field></x></query></iq>",
      "r00msecret", "Coven" },
    { "<iq xmlns='jabber:client' type='result' id='o2'>"
      "<query xmlns='" MUC "#owner'><x xmlns='jabber:x:data' type='form'>"
      "<field var='muc#roomconfig_roomsecret' type='text-private' "
      "label='Password'><value>sh0wnback</value></field></x></query></iq>",
      "sh0wnback", "label='Password'" },
    { "<iq xmlns='jabber:client' type='set' id='o3'>"
      "<query xmlns='" MUC "#owner'><destroy jid='alt@chat.example'>"
      "<reason>moving</reason><password>altpass</password></destroy></query>"
      "</iq>",
      "altpass", "moving" },
    { "<message xmlns='jabber:client' to='hecate@example'>"
      "<x xmlns='" MUC "#user'><invite from='crone1@example'/>"
      "<password>invited1</password></x></message>",
      "invited1", "crone1@example" },
    { "<message xmlns='jabber:client' to='hecate@example'>"
      "<x xmlns='jabber:x:conference' jid='darkcave@example' "
      "password='direct1' reason='join us'/></message>",
      "direct1", "darkcave@example" },
};

static void
test_cases(void)
{
    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        xd_stanza *st = parse(cases[i].xml);
        char *line = xd_redact_to_string(xd_stanza_root(st), XD_NS_CLIENT);
        char *after = xd_elem_to_string(xd_stanza_root(st), XD_NS_CLIENT);

        CHECK(strstr(line, cases[i].secret) == NULL &&
                  strstr(line, cases[i].kept) != NULL &&
                  strstr(line, "[redacted]") != NULL,
              "case %zu: %s\n  gave %s", i, cases[i].xml, line);
        CHECK(strstr(after, cases[i].secret) != NULL,
              "case %zu: the stanza itself keeps its secret: %s", i, after);
        free(line);
        free(after);
        xd_stanza_unref(st);
    }
}

/* Stanzas without secrets come out exactly as the serialiser writes them,
 * words like "password" in text or foreign namespaces included. */
static void
test_untouched(void)
{
    static const char *const xml[] = {
        "<message xmlns='jabber:client' to='a@b'><body>my password is "
        "hunter2</body></message>",
        "<iq xmlns='jabber:client' type='result' id='r'><query xmlns='jabber:"
        "iq:register'><instructions>Choose a password</instructions>"
        "<username/><password/></query></iq>",
        "<auth xmlns='" SASL "' mechanism='EXTERNAL'>=</auth>",
        "<message xmlns='jabber:client'><password xmlns='urn:example'>x"
        "</password></message>",
        "<iq xmlns='jabber:client' type='result' id='f'><x xmlns='jabber:x:"
        "data' type='form'><field var='muc#roomconfig_passwordprotectedroom' "
        "type='boolean'><value>1</value></field></x></iq>",
    };

    for (size_t i = 0; i < XD_NELEM(xml); i++) {
        xd_stanza *st = parse(xml[i]);
        char *line = xd_redact_to_string(xd_stanza_root(st), XD_NS_CLIENT);
        char *plain = xd_elem_to_string(xd_stanza_root(st), XD_NS_CLIENT);

        CHECK(strcmp(line, plain) == 0, "untouched %zu: %s\n  gave %s", i,
              plain, line);
        free(line);
        free(plain);
        xd_stanza_unref(st);
    }
}

int
main(void)
{
    test_cases();
    test_untouched();
    return check_report();
}
