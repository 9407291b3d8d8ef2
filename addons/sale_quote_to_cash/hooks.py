def uninstall_hook(env):
    """Leave no accepted quotation silently unconfirmed (see ``sale.order._q2c_hand_over``)."""
    env["sale.order"]._q2c_hand_over()
