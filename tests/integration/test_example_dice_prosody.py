"""components/examples/dice (xmppd-dice) with Debian's Prosody as the
router: the session of test_example_dice.py (subscription and presence
with caps, chat, the two-stage command, version, disco, a restart)
through a router that is not ours."""
from test_example_dice import DOMAIN, session, start_dice, write_dice_config
from xdtest import check, main, start_prosody


async def test(rig):
    write_dice_config(rig)
    start_prosody(rig, DOMAIN, ["alice"], "pencil")
    dice = [start_dice(rig)]

    async def restart():
        check(dice[0].stop() == 0, "xmppd-dice exits 0 on SIGTERM")
        dice[0] = start_dice(rig)
    await session(rig, restart)


main(test)
